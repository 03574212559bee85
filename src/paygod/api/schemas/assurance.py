"""Success body of the compliance report route (`api/routers/assurance.py`), JSON form."""

from __future__ import annotations

from paygod.api.schemas import Body
from paygod.api.schemas.ledger import TreeHead


class Report(Body):
    """A SOX, PCI DSS or GDPR report; its sections (tables, charts) differ by kind."""

    report: str
    title: str
    tenant_id: str
    period: dict[str, str]
    tree_head: TreeHead
    computed_from: str
    entries_in_period: int
