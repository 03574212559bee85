"""The web console: server-rendered pages (Jinja2) and small ES modules, served by
`paygod serve` at `/`. The pages hold no data and decide no access: their scripts call
the same /v1 API, with the session cookie, under the same permission table
(docs/console.md). Imports `api` and `identity`; nothing imports it but `api.app`."""
