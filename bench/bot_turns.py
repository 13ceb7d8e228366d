"""The customer messages the service benchmarks send, in rotation: a policy question, a short reply,
a parcel query answered from the demo orders (the `lookup_order` action), an invoice question, a goodbye.

`ws_bench.py` (over WebSockets) and `service_bench.py` (in-process) send the same ones, so their
figures per turn can be set side by side.
"""

MESSAGES = (
    "请问七天无理由退货怎么办理?",
    "好的",
    "我的快递到哪了,订单号202611180001",
    "发票怎么开?",
    "没有了,谢谢",
)
