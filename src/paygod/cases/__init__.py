"""Cases: an alert (risk, screening) becomes a case a compliance officer works and closes.

Owns `Case` and its transition table (model.py), `CaseService` (service.py), the port
`CaseStore` (ports.py, stores/). Any `risk.alert`-shaped event opens or joins a case
(`CaseService.open_from_alert`); every step is a ledger entry under `case:<id>`.
"""
