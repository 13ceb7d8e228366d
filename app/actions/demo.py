"""Demo handlers backed by the demo_orders table, so the widget demo can answer "我的快递到哪了"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from app.actions.runner import ActionError
from app.content.yamlio import read_yaml_file

WARRANTY_DAYS = 365  # demo assumption, matching the demo facts' one-year warranty


class DemoOrderSource(Protocol):
    async def demo_order(self, order_id: str) -> dict[str, Any] | None: ...


def load_demo_data(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Demo orders and the wording of warranty results, from scripts_zh/demo_orders.yaml."""
    data = read_yaml_file(path) or {}
    rows = [{k: str(v) for k, v in row.items()} for row in data.get("demo_orders", [])]
    labels = {str(k): str(v) for k, v in (data.get("warranty_labels") or {}).items()}
    return rows, labels


async def _order(source: DemoOrderSource, args: Mapping[str, str]) -> dict[str, Any]:
    order_id = args.get("order_id")
    if not order_id:
        raise ActionError("no order_id to look up")
    row = await source.demo_order(order_id)
    if row is None:
        raise ActionError(f"order {order_id} not found")
    return row


def lookup_order(source: DemoOrderSource):  # type: ignore[no-untyped-def]
    async def handler(args: Mapping[str, str]) -> dict[str, str]:
        row = await _order(source, args)
        return {
            "shipping_status": row["status"],
            "carrier": row["carrier"],
            "tracking_no": row["tracking_no"],
            "eta": row["eta"],
            "product_model": row.get("product") or args.get("product_model", ""),
        }

    return handler


def check_warranty(  # type: ignore[no-untyped-def]
    source: DemoOrderSource, labels: Mapping[str, str], today: date | None = None
):
    async def handler(args: Mapping[str, str]) -> dict[str, str]:
        row = await _order(source, args)
        until = date.fromisoformat(row["eta"]) + timedelta(days=WARRANTY_DAYS)
        key = "in_warranty" if (today or date.today()) <= until else "expired"
        return {
            "warranty_until": until.isoformat(),
            "warranty_status": labels.get(key, key),
            "product_model": row.get("product", ""),
        }

    return handler


class InMemoryOrders:
    """Demo orders held in a dict: the source for `huashu chat`, which runs without a database."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._rows = {row["order_id"]: row for row in rows}

    async def demo_order(self, order_id: str) -> dict[str, Any] | None:
        return self._rows.get(order_id)


def demo_handlers(source: DemoOrderSource, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"lookup_order": lookup_order(source), "check_warranty": check_warranty(source, labels)}
