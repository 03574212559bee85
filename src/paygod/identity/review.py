"""Maker-checker: is this checker a second person, independent of the maker?

A tenant admin could otherwise satisfy maker-checker alone: create a principal with the
approving role (a service needs no second factor) and approve through it. So the checker
must be a human, and must not be the maker, the human an agent or service maker acts for
(the human who created it), or anyone either of them created, directly or through
principals they created (`created_by`, recorded at creation).

Nor may the checker's second factor come from the maker's side: an admin who issues a
human's enrolment token (which resets that human's factor) can enrol as them, so a factor
enrolled with a token issued by the maker, or by anyone the maker is or acts for, does not
make its holder a second person.

Names that are no principal at all are host operators (the CLI acts with the authority of
whoever owns the store, `paygod payments approve --as NAME`): only the same-name rule
applies to them.
"""

from __future__ import annotations

from collections.abc import Callable

from paygod.identity.errors import IdentityCode
from paygod.identity.model import Principal
from paygod.kernel.errors import Forbidden, SamePrincipal

# Creation chains are short (host -> admin -> principals); the bound only guards a cycle.
MAX_DEPTH = 64

Lookup = Callable[[str], Principal | None]


def _creators(lookup: Lookup, principal: Principal) -> list[Principal]:
    """The principal, then who created it, then who created that one..."""
    chain = [principal]
    seen = {principal.principal_id}
    while chain[-1].created_by and len(chain) < MAX_DEPTH:
        creator = lookup(chain[-1].created_by)
        if creator is None or creator.principal_id in seen:
            break
        chain.append(creator)
        seen.add(creator.principal_id)
    return chain


def _acting_for(lookup: Lookup, maker: Principal) -> set[str]:
    """The maker, and when it is no human, the creators up to the first human (who it acts
    for). Platform admins are the platform's operators, outside any tenant's separation of
    duties: an agent they created acts for no one in the tenant."""
    behind = {maker.principal_id}
    for principal in _creators(lookup, maker):
        if principal.is_human:
            behind.add(principal.principal_id)
            break
        if principal is not maker and principal.is_platform_admin:
            break
        behind.add(principal.principal_id)
    return behind


def require_second_person(
    lookup: Lookup,
    maker_id: str,
    checker_id: str,
    factor_issuer: Callable[[str], str | None] | None = None,
) -> None:
    """Raise Forbidden unless `checker_id` counts as a second person for `maker_id`;
    `factor_issuer` names who issued the enrolment token behind a principal's factor."""
    if checker_id == maker_id:
        raise SamePrincipal(
            "maker-checker: the requester cannot approve or reject their own payment"
        )
    checker = lookup(checker_id)
    if checker is None:
        return  # a host operator (CLI), not a principal
    if not checker.is_human:
        raise Forbidden(
            f"maker-checker: {checker.name} is a {checker.kind.value}, not a human;"
            " a review needs a second person",
            code=IdentityCode.CHECKER_NOT_HUMAN,
        )
    maker = lookup(maker_id)
    if maker is None:
        return
    makers = _acting_for(lookup, maker)
    for principal in _creators(lookup, checker):
        if principal.principal_id in makers:
            relation = (
                "is the human behind"
                if principal is checker
                else f"was created by {principal.name}, who is or acts for"
            )
            raise Forbidden(
                f"maker-checker: {checker.name} {relation} the requester {maker.name};"
                " a review needs an independent second person",
                code=IdentityCode.CHECKER_NOT_INDEPENDENT,
            )
    issuer_id = factor_issuer(checker.principal_id) if factor_issuer is not None else None
    issuer = lookup(issuer_id) if issuer_id else None
    if issuer is not None and any(p.principal_id in makers for p in _creators(lookup, issuer)):
        raise Forbidden(
            f"maker-checker: {checker.name}'s second factor was enrolled with a token issued"
            f" by {issuer.name}, on the requester {maker.name}'s side; a review needs a"
            " second person whose factor the requester did not hand out",
            code=IdentityCode.CHECKER_FACTOR_FROM_MAKER,
        )
