"""The OpenAPI document describes the errors the API really sends: problem+json."""

from __future__ import annotations

from paygod.api.app import create_app


def test_every_operation_documents_problem_json_errors_and_no_fastapi_422() -> None:
    schema = create_app().openapi()
    assert "HTTPValidationError" not in str(schema)
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 40
    for path, method, op in operations:
        default = op["responses"]["default"]["content"]
        assert list(default) == ["application/problem+json"], (path, method)
        if "422" in op["responses"]:
            assert list(op["responses"]["422"]["content"]) == ["application/problem+json"]


def test_readyz_and_csv_exports_document_their_media_types() -> None:
    paths = create_app().openapi()["paths"]
    assert list(paths["/readyz"]["get"]["responses"]["200"]["content"]) == [
        "application/health+json"
    ]
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert "text/csv" in paths["/v1/transfers"]["get"]["responses"]["200"]["content"]
