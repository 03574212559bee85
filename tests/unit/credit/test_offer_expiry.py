"""An offer past its expiry is sealed `expired` by the housekeeping sweep (once, with its
event), so lists and past views say so; an offer still open, or an application in any
other state, is left as it is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paygod.credit.model import ApplicationStatus
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.errors import Conflict
from tests.unit.credit.test_application_list_withdraw import World, offered, withdrawn
from tests.unit.credit.test_applications import world

__all__ = ["world"]


def test_the_sweep_expires_offers_past_their_expiry_once(world: World) -> None:
    service, clock, ledger = world
    application = offered(service)
    expires = parse_instant(str((application.offer or {})["expires_at"]))
    clock.set(expires - timedelta(seconds=1))
    size = ledger.size
    assert service.expire_offers() == []
    assert ledger.size == size and service.find(application.application_id) == application
    clock.set(expires)
    assert service.expire_offers() == [application.application_id]
    done = service.find(application.application_id)
    assert done is not None and done.status is ApplicationStatus.EXPIRED
    assert done.version == application.version + 1 and done.updated_at == isoformat(expires)
    assert ledger.size == size + 1
    event = ledger.outbox[-1]
    assert event["event_type"] == "CreditOfferExpired"
    assert event["envelope"]["payload"]["expires_at"] == (application.offer or {})["expires_at"]
    assert service.expire_offers() == [] and ledger.size == size + 1  # once
    # As of a moment before the expiry it was still offered; the list says expired now.
    before = service.find(application.application_id, expires - timedelta(seconds=1))
    assert before is not None and before.status is ApplicationStatus.OFFERED
    assert [a.status for a in service.applications("t1")] == [ApplicationStatus.EXPIRED]
    with pytest.raises(Conflict) as raised:
        service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    assert raised.value.instance_code == "application-expired"
    assert ledger.verify().ok


def test_only_open_offers_expire(world: World) -> None:
    service, clock, ledger = world
    gone = withdrawn(service)
    clock.advance(86_400 * 30)
    size = ledger.size
    assert service.expire_offers() == []
    assert service.expire(gone.application_id) is None
    assert ledger.size == size
    assert service.expire("no-such-application") is None
