"""The OpenAPI documents as a client generator, a gateway and a fuzzer use them: each service's
document and the gateway's combined one pass openapi-spec-validator; operation ids are unique
camelCase verbs; every operation documents the problems it can answer; and schemathesis, with all
its checks, finds nothing the documents do not say, against every service with a customer's and
an admin's token (bounded and seeded, so it takes about as long each run and finds the same)."""

from __future__ import annotations

import asyncio
import collections
import json
import re
import time

import pytest
from openapi_spec_validator import validate

from billing.bootstrap import definition as billing_definition
from catalog.bootstrap import definition as catalog_definition
from notify.bootstrap import definition as notify_definition
from orders.bootstrap import definition as orders_definition
from portal_runtime.auth import PUBLIC_PATHS
from portal_runtime.openapi import PER_SERVICE, PROBLEM_REF, document, gateway_document, offline_app
from portal_runtime.problems import MEDIA_TYPE
from portal_runtime.testing import bearer, running_service
from returns.bootstrap import definition as returns_definition

DEFINITIONS = {
    "catalog": catalog_definition,
    "orders": orders_definition,
    "returns": returns_definition,
    "billing": billing_definition,
    "notify": notify_definition,
}
METHODS = {"get", "put", "post", "delete", "patch"}
VERB = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)+$")  # submitRequest, getItem, listAllRequests


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {name: document(offline_app(make())) for name, make in DEFINITIONS.items()}


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.parametrize("service", DEFINITIONS)
def test_each_service_document_is_valid(documents, service):
    validate(documents[service])
    scheme = documents[service]["components"]["securitySchemes"]["BearerToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "Bearer" and "name" not in scheme


def test_the_gateway_document_is_valid_and_holds_every_operation_once(documents):
    gateway = gateway_document(documents)
    validate(gateway)
    expected = {
        (path, method) for doc in documents.values() for path, method, op in operations(doc) if not op.get(PER_SERVICE)
    }
    assert {(path, method) for path, method, _ in operations(gateway)} == expected
    ids = [op["operationId"] for _, _, op in operations(gateway)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for path, _, op in operations(gateway):
        [service] = op["tags"]
        assert path in documents[service]["paths"], (path, service)
    # the services' Status enums differ: each keeps its own under its service's name
    assert {"CatalogStatus", "OrdersStatus", "BillingStatus"} <= set(gateway["components"]["schemas"])
    assert "Status" not in gateway["components"]["schemas"]
    assert not any(path.startswith(("/v1/admin/jobs", "/v1/admin/clock")) for path in gateway["paths"])


def test_portal_openapi_prints_the_gateway_document_without_any_server(documents):
    """`./portal openapi > gateway.json` on a fresh clone: built from the services' code."""
    from typer.testing import CliRunner

    from portal_stack.cli import app

    printed = CliRunner().invoke(app, ["openapi", "--server", "https://api.portal.example"])
    assert printed.exit_code == 0, printed.output
    gateway = json.loads(printed.stdout)
    validate(gateway)
    assert gateway == gateway_document(documents, server="https://api.portal.example")
    one = CliRunner().invoke(app, ["openapi", "billing"])
    assert one.exit_code == 0 and json.loads(one.stdout) == documents["billing"]
    assert CliRunner().invoke(app, ["openapi", "nowhere"]).exit_code == 2


@pytest.mark.parametrize("service", DEFINITIONS)
def test_operation_ids_are_unique_camel_case_verbs(documents, service):
    ids = [op["operationId"] for _, _, op in operations(documents[service])]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not VERB.match(i)] == []
    for expected in {
        "catalog": ["listItems", "getItem", "createItem", "changeItem", "retireItem"],
        "orders": ["createRequest", "submitRequest", "approveRequest", "rejectRequest", "listAllRequests"],
        "returns": ["requestReturn", "approveReturn", "receiveReturn"],
        "billing": ["listInvoices", "getInvoice", "payInvoice", "recordPayment"],
        "notify": ["listDeliveries", "retryDelivery"],
    }[service]:
        assert expected in ids, (expected, ids)


# OAuth2's token endpoint answers its errors as RFC 6749 §5.2 says (JSON `error`), not as problem details.
OAUTH_ERRORS = {("/v1/auth/token", "400"), ("/v1/auth/token", "429")}
# A file download answers the file's bytes in its own content type (documented as application/octet-stream).
FILE_DOWNLOADS = {
    ("/v1/documents/{document_id}/file", "200"),
    # printed invoices (orders): application/pdf
    ("/v1/orders/{order_id}/invoice.pdf", "200"),
    ("/v1/admin/orders/{order_id}/invoice.pdf", "200"),
    ("/v1/admin/orders/invoices.pdf", "200"),
    ("/v1/account/documents/{document_id}/pdf", "200"),  # the customer's documents (orders): application/pdf
}


@pytest.mark.parametrize("service", DEFINITIONS)
def test_every_operation_documents_its_problems(documents, service):
    for path, method, op in operations(documents[service]):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        public = any(path.startswith(p) for p in PUBLIC_PATHS) or op.get("security") == [{}]
        assert public or "401" in responses, where
        if "401" in responses:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"], where
        assert "400" in responses, where
        if "{" in path:
            assert "404" in responses, where
        if "requestBody" in op:
            assert {"413", "415", "422"} <= set(responses), where
        if path.startswith("/v1/admin/"):
            assert "403" in responses, where
        for status, answer in responses.items():
            if (path, status) in OAUTH_ERRORS | FILE_DOWNLOADS:
                continue
            if status.startswith(("4", "5")):
                assert answer["content"] == {MEDIA_TYPE: {"schema": PROBLEM_REF}}, (where, status)
            else:
                assert set(answer.get("content", {"application/json": 1})) == {"application/json"}, (where, status)
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                assert schema.get("type") != "string", f"{where} {status} documents its body as a string"


def test_the_admin_paths_follow_one_convention(documents):
    """Every operation behind `admin_only` lives under /v1/admin/ (403 documented only there)."""
    for service, doc in documents.items():
        for path, method, op in operations(doc):
            admin_only = "403" in op["responses"] and op["operationId"] != "payInvoice"
            assert admin_only == path.startswith("/v1/admin/"), (service, method, path)


def test_the_payment_endpoints_require_an_idempotency_key_and_type_their_answers(documents):
    billing = documents["billing"]["paths"]
    for path, problems in (
        ("/v1/invoices/{invoice_id}/payments", {"402", "403", "404", "409", "422"}),
        ("/v1/admin/invoices/{invoice_id}/payments", {"403", "404", "409", "422"}),
    ):
        op = billing[path]["post"]
        [key] = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and key["required"] is True and key["schema"]["type"] == "string"
        assert op["responses"]["201"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/PaymentResultOut"
        }
        assert problems <= set(op["responses"]), path
    created = documents["orders"]["paths"]["/v1/requests"]["post"]["responses"]["409"]
    assert "Retry-After" in created["headers"] and "not-offered-yet" in created["description"]
    changed = documents["catalog"]["paths"]["/v1/admin/items/{item_id}"]["patch"]
    assert "412" in changed["responses"] and "ETag" in changed["responses"]["200"]["headers"]


async def test_the_served_document_is_the_completed_one(migrated_database, kafka):
    definition = catalog_definition()
    url = await migrated_database(definition)
    async with running_service(definition, database_url=url, kafka=kafka, consume=False, relay=False) as (rt, http):
        served = (await http.get("/schema/openapi.json")).json()
        page = (await http.get("/schema/swagger")).text
    validate(served)
    assert served["paths"]["/v1/admin/items"]["post"]["operationId"] == "createItem"
    assert "createItem" in page


# -- schemathesis, all checks ------------------------------------------------------------------

SEED = 20261201
MAX_EXAMPLES = 3
# Operations where a request the document allows may still be refused, rightly, by what JSON
# Schema cannot say: a rule across fields or about other objects (422 naming the field), the
# item's revision (412 on a stale If-Match), the card's bank (402). Every other operation must
# take what its document allows (2xx, or 401/403/404/409 for who asks and what exists).
ALSO_RIGHT = {
    "createItem": (["422"], "price + billing or prices, a period when recurring, units and parents by kind"),
    "changeItem": (["412", "422"], "the same rules over the item as changed; a stale If-Match"),
    "retireItem": (["412"], "a stale If-Match"),
    "payInvoice": (["402", "422"], "a declined card; a card number's check digit, an expired card"),
    "requestReturn": (["422"], "an invoice of the caller's by that number, a line it has, no more than it invoiced"),
    "approveReturn": (["422"], "`expected_on` not before today (the business date)"),
    "changeReturnExpectedDate": (["422"], "`expected_on` not before today and not the date the return already has"),
    "recordGoodsReceipt": (["422"], "lines of the return, no more of each than approved less received"),
    "checkOutCart": (["422"], "a cart with lines, each still offered and allowed as when it was added"),
    "getUnits": (["422"], "an admin names the account (account_id)"),
    "getAccountCredit": (["422"], "an admin names the account (account_id)"),
    "getAccountBalance": (["422"], "an admin names the account (account_id)"),
    "getBalanceByOrder": (["422"], "an admin names the account (account_id)"),
    "getAccountStatement": (["422"], "an admin names the account (account_id); `to` not before `from`"),
    "issueStatement": (["422"], "`period_end` not before `period_start` and not after today (the business date)"),
    "disputeStatement": (["422"], "a note not only blanks"),
    "recordAccountPayment": (["422"], "`received_on` not after today; an account id of at most 200 characters"),
    "changeUnits": (["422"], "an admin names the account (account_id)"),
    "listLedger": (["422"], "an admin names the account (account_id); `to` not before `from`"),
    "previewPurchase": (["422"], "lines of unit packages on sale, 1 to 100 of each, in one currency"),
    "buyPackages": (["402", "422"], "a declined card; lines as for previewPurchase; a card's check digit, expiry"),
    "putPlan": (["422"], "a unit package on sale; a card while none is saved, its check digit, expiry; account_id"),
    "savePlanCard": (["422"], "a card's check digit, expiry; an admin names the account (account_id)"),
    "getPlan": (["422"], "an admin names the account (account_id)"),
    "turnOffPlan": (["422"], "an admin names the account (account_id)"),
    "setPassword": (
        ["400", "422"],
        "the token of a live emailed link (400 otherwise); a password that is not the login",
    ),
    "issueToken": (["400"], "OAuth2 (RFC 6749 §5.2): a user name and password that sign in, else 400 invalid_grant"),
    "changePassword": (["422"], "the caller's right old password; a new one that is not the login"),
    "createGroup": (["422"], "item_ids of items in the catalog"),
    "replaceGroup": (["422"], "item_ids of items in the catalog"),
    "uploadDocument": (
        ["400", "422"],
        "the file sent with a file name (a part without one is read as UTF-8 text, else 400); a file of 1 byte to "
        "10 MiB; group_ids of access groups that exist",
    ),
    "changeDocument": (["422"], "group_ids of access groups that exist"),
    "postOrderMessage": (["422"], "a body of 1 to 5000 characters once stripped of blanks"),
    "postAdminOrderMessage": (["422"], "a body of 1 to 5000 characters once stripped of blanks"),
    "printViewInvoices": (["422"], "`placed_from` not after `placed_to`"),
    "listAdminOrders": (["422"], "`placed_from` not after `placed_to`"),
    "getOrderStatement": (["422"], "an admin names the account (account_id)"),
    "cancelAdminOrder": (["422"], "a settlement when money was paid on the order; a reason not only blanks"),
    "recordShipment": (
        ["422"],
        "goods lines of the order, at most what each awaits; carrier and tracking_number both or neither",
    ),
    "shipShipment": (["422"], "a carrier and tracking number not only blanks"),
    "correctShipmentTracking": (["422"], "a carrier and tracking number not only blanks"),
}
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def fuzz(base_url: str, headers: dict[str, str]) -> tuple[dict[str, list[str]], int]:
    """A schemathesis run with every check over the service's served document: failures by check
    (one line each: operation, title, status) and how many cases it sent."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import from_schema
    from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished

    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": headers,
            # No NUL in generated text: the API refuses it in any text with a 400 (README), which
            # JSON Schema cannot say short of a pattern on every string.
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "allow-x00": False,
            },
            "workers": 1,
            "request-timeout": 20,
            "operations": [
                {
                    "include-operation-id": operation,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE, *statuses]}},
                }
                for operation, (statuses, _) in ALSO_RIGHT.items()
            ],
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=config)
    found: dict[str, list[str]] = collections.defaultdict(list)
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, FatalError | NonFatalError):
            found["error"].append(f"{event.label if hasattr(event, 'label') else ''}: {event.info.message}")
        if not isinstance(event, ScenarioFinished):
            continue
        cases += len(event.recorder.cases)
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    status = getattr(failure, "status_code", None)
                    line = f"{event.recorder.label}: {failure.title} ({status}): {failure.message}"
                    line = line.replace("\n", " | ")[:400] + " :: " + check.failure_info.code_sample[-400:]
                    if line not in found[check.name]:
                        found[check.name].append(line)
    return dict(found), cases


@pytest.mark.parametrize("service", DEFINITIONS)
@pytest.mark.timeout(600)  # 60-70 s for all five when quiet; a busy machine took 160 s for catalog alone
async def test_schemathesis_finds_nothing_with_all_checks(service, migrated_database, kafka):
    definition = DEFINITIONS[service]()
    url = await migrated_database(definition)
    tokens = {"customer": bearer("acme", user="alice"), "admin": bearer("ops", "admin", user="root")}
    found: dict[str, dict[str, list[str]]] = {}
    started = time.monotonic()
    async with running_service(definition, database_url=url, kafka=kafka, consume=False, relay=False) as (rt, http):
        for role, token in tokens.items():
            failures, cases = await asyncio.to_thread(fuzz, str(http.base_url), token)
            print(f"{service} as {role}: {cases} cases in {time.monotonic() - started:.1f} s")
            if failures:
                found[role] = failures
    report = "\n".join(
        f"[{role}] {check}: {line}"
        for role, checks in found.items()
        for check, lines in checks.items()
        for line in lines
    )
    assert not found, f"schemathesis found, against {service}:\n{report}"
