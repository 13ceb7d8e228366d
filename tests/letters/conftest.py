"""Letter fixtures: the default pack's letters, facts and engine, loaded once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.config import Settings
from app.engine.step import Engine
from app.letters.pack import LetterPack, load_letter_pack
from app.runtime import build_engine

TODAY = date(2026, 11, 26)
EMAILS = Path(__file__).parent / "emails"
# Enough to write every kind (notice needs its own facts).
SLOTS = {
    "customer_name": "张先生", "product_model": "XQG100", "order_id": "202611180001", "enquiry_date": "2026-11-18",
    "solution": "该产品保修期为自购买之日起十二个月,保修期内非人为损坏的性能故障免费维修", "company": "华枢优品",
    "topic": "保修期政策", "issue": "洗衣机漏水", "reason": "对我们的配送服务提出宝贵建议",
    "notice_subject": "春节期间配送安排", "notice_content": "春节期间部分地区暂停配送,恢复时间以短信通知为准",
    "effective_date": "2027-02-10",
}


@pytest.fixture(scope="session")
def engine() -> Engine:
    return build_engine(Settings())


@pytest.fixture(scope="session")
def pack(engine: Engine) -> LetterPack:
    return load_letter_pack(Settings().scripts_dir, dict(engine.content.facts))
