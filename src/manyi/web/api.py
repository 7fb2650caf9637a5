"""``/api/v1``: submit responses (by an invitation's token, or with an API key of the
campaign), with an ``Idempotency-Key`` header so that a retried request gets the first
answer and never stores a duplicate; list responses; a campaign's scorecard in the JSON shape
of ``manyi score --format json``. Errors are JSON in the language of ``Accept-Language``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

MAX_BODY = 64 * 1024


def _lang(request: Request) -> str:
    return _accept_lang(request.headers.get("accept-language", ""))


def _key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, tuple[int, dict[str, Any]] | None]:
    """A submission's JSON body, or the (status, error body) that refuses it."""
    if len(raw) > MAX_BODY:
        return None, (413, {"error": "body too large", "limit": MAX_BODY})
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None, (400, {"error": "malformed JSON"})
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict):
        return None, (422, {"error": "invalid", "errors": [{"field": "answers", "message": "an object of answers"}]})
    return data, None


async def _body(request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
    data, bad = _parse(await request.body())
    return data, None if bad is None else JSONResponse(bad[1], status_code=bad[0])


def _accept_lang(header: str) -> str:
    for part in header.lower().split(","):
        code = part.split(";")[0].strip()[:2]
        if code in ("zh", "en"):
            return code
    return "en"


CAMPAIGN_SUBMIT = ("/api/v1/campaigns/", "/responses")


async def submit(intake: Any, campaign: str, data: dict[str, Any], headers: Any) -> Any:
    """One submission by campaign through the group commit: checked now, answered (an
    ``ApiAnswer``) once its batch is committed. The first submission waiting schedules one
    flush for all those that arrive together. ``headers``: lower-case names."""
    import asyncio

    rid = data.get("response_id")
    pending = intake.submit(
        campaign,
        data.get("answers", {}),
        api_key=_key(headers.get("x-api-key"), headers.get("authorization")),
        response_id=None if rid is None else str(rid),
        idempotency_key=headers.get("idempotency-key"),
        lang=_accept_lang(headers.get("accept-language", "")),
    )
    if not pending.done() and intake.waiting == 1:
        asyncio.get_running_loop().call_soon(intake.flush)
    return await asyncio.wrap_future(pending)


class FastSubmit:
    """The busiest route, ``POST /api/v1/campaigns/NAME/responses``, served straight from
    ASGI: the same checks, answers and headers as the routed endpoint, without the framework's
    middleware, routing and parameter machinery on the way (a third of the time of a
    submission). The app hands such requests here before anything else (``manyi.web.app``)."""

    def __init__(self, intake: Any):
        self.intake = intake

    @staticmethod
    def campaign_of(scope: Any) -> str | None:
        """The campaign of a submission's path, or None for every other request."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        head, tail = CAMPAIGN_SUBMIT
        if not (path.startswith(head) and path.endswith(tail)) or len(path) <= len(head) + len(tail):
            return None
        name = path[len(head) : -len(tail)]
        return None if "/" in name else name

    async def __call__(self, scope: Any, receive: Any, send: Any, campaign: str) -> None:

        from manyi.web.staff import security_headers

        status, body = 500, {"error": "internal error"}
        try:
            h = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            chunks, size, more = [], 0, True
            while more:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                part = msg.get("body", b"")
                size += len(part)
                if size > MAX_BODY:
                    break
                chunks.append(part)
                more = msg.get("more_body", False)
            data, bad = _parse(b"".join(chunks) if size <= MAX_BODY else b" " * (MAX_BODY + 1))
            if bad is not None:
                status, body = bad
            else:
                out = await submit(self.intake, campaign, data, h)
                status, body = out.status, out.body
        except Exception:  # noqa: BLE001 - no traceback reaches a client
            status, body = 500, {"error": "internal error"}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers: dict[str, str] = {}
        security_headers(scope["path"], headers)
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})


def router(url: str | None, intake: Any = None) -> APIRouter:

    from manyi.services import survey
    from manyi.services.intake import Intake

    r = APIRouter(prefix="/api/v1")
    intake = intake or Intake(url)  # group commit of submissions with an API key

    def _denied(campaign: str, key: str | None) -> JSONResponse | None:
        """401 without a valid key of the campaign, 404 for an unknown one, else None."""
        status = survey.api_allowed(campaign, key, url)
        if status == 200:
            return None
        return JSONResponse(
            {"error": "unauthorised" if status == 401 else "unknown campaign"}, status
        )

    @r.post("/s/{token}/responses", status_code=201)
    async def submit_by_token(
        token: str, request: Request, idempotency_key: str | None = Header(None)
    ) -> JSONResponse:
        """Store the answers of an invitation (``{"answers": {item: value, ...}}``)."""
        data, bad = await _body(request)
        if bad is not None:
            return bad
        out = survey.api_submit(
            data.get("answers", {}),
            token=token,
            idempotency_key=idempotency_key,
            lang=_lang(request),
            url=url,
        )
        return JSONResponse(out.body, status_code=out.status)

    @r.post("/campaigns/{campaign}/responses", status_code=201)
    async def submit_to_campaign(campaign: str, request: Request) -> JSONResponse:
        """Store a response with an API key of the campaign (``X-API-Key`` or ``Authorization:
        Bearer``; ``{"response_id": "...", "answers": {...}}``, the id is optional; an
        ``Idempotency-Key`` header makes a retry safe). The headers are read from the request
        itself: the busiest route skips FastAPI's parameter machinery."""
        data, bad = await _body(request)
        if bad is not None:
            return bad
        out = await submit(intake, campaign, data, request.headers)
        return JSONResponse(out.body, status_code=out.status)

    @r.get("/campaigns/{campaign}/responses")
    def responses(
        campaign: str,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        x_api_key: str | None = Header(None),
        authorization: str | None = Header(None),
    ) -> JSONResponse:
        denied = _denied(campaign, _key(x_api_key, authorization))
        if denied is not None:
            return denied
        return JSONResponse({"responses": survey.list_responses(campaign, limit, offset, url)})

    @r.get("/campaigns/{campaign}/responses/{response_id}")
    def one_response(
        campaign: str,
        response_id: str,
        x_api_key: str | None = Header(None),
        authorization: str | None = Header(None),
    ) -> JSONResponse:
        denied = _denied(campaign, _key(x_api_key, authorization))
        if denied is not None:
            return denied
        found = survey.get_response(campaign, response_id, url)
        if found is None:
            return JSONResponse({"error": "unknown response"}, status_code=404)
        return JSONResponse(found)

    @r.get("/campaigns/{campaign}/scorecard")
    def scorecard(
        campaign: str,
        request: Request,
        by: str = "",
        period: str | None = None,
        x_api_key: str | None = Header(None),
        authorization: str | None = Header(None),
    ) -> JSONResponse:
        """The campaign's scorecard, the JSON of ``manyi score --campaign NAME --format json``."""
        from manyi.core.messages import ManyiError
        from manyi.core.result import jsonable
        from manyi.services.store import score_campaign

        denied = _denied(campaign, _key(x_api_key, authorization))
        if denied is not None:
            return denied
        lang = _lang(request)
        try:
            res = score_campaign(campaign, [b for b in by.split(",") if b], period or None, url=url)
        except ManyiError as exc:
            return JSONResponse({"error": exc.render(lang)}, status_code=422)
        return JSONResponse(jsonable(res.to_dict(lang)))

    # --- the complaint desk's case API (a key made with ``manyi apikey create --cases``) --------
    def _desk_denied(request: Request) -> JSONResponse | None:
        h = request.headers
        if survey.desk_key_ok(_key(h.get("x-api-key"), h.get("authorization")), url):
            return None
        return JSONResponse({"error": "unauthorised"}, status_code=401)

    @r.post("/cases", status_code=201)
    async def open_case(request: Request) -> JSONResponse:
        """Open a case (``{"kind", "category", "description", "customer", "unit", "contact",
        "received_at", "external_id", ...}``; channel ``api`` unless given). A retry with the same
        ``external_id`` or ``Idempotency-Key`` returns the first case (200), never a second."""
        from manyi.services import cases

        denied = _desk_denied(request)
        if denied is not None:
            return denied
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": "body too large", "limit": MAX_BODY}, status_code=413)
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "malformed JSON"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "invalid", "errors": [{"field": "body", "message": "an object"}]}, 422)
        status, out = cases.api_open(data, request.headers.get("idempotency-key"), url)
        if status == 422:
            lang = _lang(request)
            return JSONResponse({"error": "invalid", "errors": [
                {"field": m.params.get("field", "description"), "message": m.render(lang)} for m in out]}, 422)
        return JSONResponse(out, status_code=status)

    @r.get("/cases/{number}")
    def get_case(number: str, request: Request) -> JSONResponse:
        """A case with its status, due instants, breaches and timeline."""
        from manyi.services import cases

        denied = _desk_denied(request)
        if denied is not None:
            return denied
        found = cases.api_case(number, url)
        if found is None:
            return JSONResponse({"error": "unknown case"}, status_code=404)
        return JSONResponse(found)

    @r.get("/cases")
    def list_cases(request: Request, limit: int = Query(100, ge=1, le=1000),
                   offset: int = Query(0, ge=0)) -> JSONResponse:
        """Cases, newest first, in the shape of ``manyi cases list --format json``."""
        from manyi.services import cases

        denied = _desk_denied(request)
        if denied is not None:
            return denied
        return JSONResponse({"cases": cases.list_cases(limit, offset, url)})

    return r
