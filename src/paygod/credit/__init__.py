"""Credit: loan schedules, the Regulation Z APR, and (on the kernel) applications to repayments.

`schedule` and `apr` are pure calculators (`decimal` only, no I/O); they import nothing but
`paygod.kernel.errors`, the currency table and `calendar`. The CLI and the API call them.
"""

from paygod.credit.apr import AprCase, AprResult, annual_percentage_rate, parse_case
from paygod.credit.schedule import Schedule, ScheduleTerms, amortize, parse_terms

__all__ = [
    "AprCase",
    "AprResult",
    "Schedule",
    "ScheduleTerms",
    "amortize",
    "annual_percentage_rate",
    "parse_case",
    "parse_terms",
]
