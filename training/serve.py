"""``wirecoder serve``: the model behind an HTTP API, with the coding desk page at ``/``.

``create_app(coder, ...)`` builds the FastAPI app around an already loaded :class:`EventCoder`, so
the model is loaded once per process and tests build the app in memory. Requests from concurrent
clients are coded together by :class:`training.serve_batching.MicroBatcher`.

Routes (all JSON):

* ``POST /v1/code`` ``{"texts": [...], "ids"?: [...], "document_date"?: "YYYY-MM-DD"}`` ->
  ``{"predictions": [Prediction.to_dict(), ...]}``, one per text, in order;
* ``POST /v1/events`` -> the event rows of documents sent back after corrections, rebuilt by
  ``predict``'s own row builder (JSON, or ACLED CSV as ``predict --format acled`` writes it);
* ``GET /v1/health`` -> ``{"status": "ok", ...}`` (never needs the token);
* ``GET /v1/model`` -> labels, thresholds, corpus version, test metrics;
* ``GET /docs`` -> the OpenAPI page (served offline by fastapi-offline); ``GET /`` -> the desk.

Errors are ``{"error": "one line", "detail": ...}``: 401 without the token, 413 over a size limit,
422 for a body that is not the JSON above (with the reason).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from model.errors import WirecoderError
from training.serve_batching import MicroBatcher

logger = logging.getLogger(__name__)

DESK_DIR = Path(__file__).resolve().parent / "desk"


@dataclass(frozen=True)
class Limits:
    """What one request may hold; past them the answer is 413 with the limit in the message."""

    max_body_bytes: int = 4_000_000
    max_texts: int = 256
    max_chars: int = 100_000


def _metrics_summary(model_dir: Path | None) -> dict | None:
    """The headline numbers of ``metrics.json`` (written by ``wirecoder train``), or None."""
    file = model_dir / "metrics.json" if model_dir else None
    if file is None or not file.is_file():
        return None
    try:
        m = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("%s unreadable (%s): /v1/model shows no metrics", file, exc)
        return None
    out = {k: m.get(k) for k in ("base_model_id", "sentences", "train_seconds", "best_dev_combined_f1")}
    test = (m.get("test") or {}).get("model")
    if isinstance(test, dict):
        pick = lambda part, keys: {k: (test.get(part) or {}).get(k) for k in keys}  # noqa: E731
        out["test"] = {
            "sentences": test.get("sentences"),
            "event_types": pick("event_types", ("micro_f1", "macro_f1")),
            "sub_event_types": pick("sub_event_types", ("micro_f1", "macro_f1", "weighted_f1")),
            "event_detection_accuracy": test.get("event_detection_accuracy"),
            "spans": pick("spans", ("precision", "recall", "f1")),
        }
    return out


def model_info(coder, model_dir: str | Path | None = None) -> dict:
    """What ``GET /v1/model`` answers: the labels and thresholds the model codes with, and where it came from."""
    from model.taxonomy import EVENT_TAXONOMY, SPAN_LABELS, SUB_EVENT_TYPES
    from training.writers import COLOURS

    cfg = coder.config
    return {
        "model_dir": str(model_dir) if model_dir else None,
        "base_model": getattr(cfg, "base_model_name", None),
        "corpus_version": getattr(cfg, "corpus_version", None),
        "taxonomy": {e: list(subs) for e, subs in EVENT_TAXONOMY.items()},
        "sub_event_types": list(SUB_EVENT_TYPES),
        "span_labels": list(SPAN_LABELS),
        "span_colours": dict(COLOURS),
        "thresholds": {s: round(float(t), 4) for s, t in zip(SUB_EVENT_TYPES, coder.thresholds)},
        "max_length": coder.max_length,
        "metrics": _metrics_summary(Path(model_dir) if model_dir else None),
    }


def _iso_date(value: str) -> str:
    try:
        if len(value) != 10:
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date written YYYY-MM-DD") from None
    return value


IsoDate = Annotated[str, AfterValidator(_iso_date)]


class CodeRequest(BaseModel):
    """The body of ``POST /v1/code``."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, description="the reports to code, each a whole document",
                             examples=[["Gunmen killed two farmers near Gao on Monday."]])
    ids: list[str] | None = Field(None, description="one id per text (default: \"0\", \"1\", ...)")
    document_date: IsoDate | None = Field(None, description="the reports' date, YYYY-MM-DD: relative dates "
                                      "(\"on Monday\") in the event rows resolve against it", examples=["2024-03-05"])

    @model_validator(mode="after")
    def _one_id_per_text(self) -> CodeRequest:
        if self.ids is not None and len(self.ids) != len(self.texts):
            raise ValueError(f"{len(self.ids)} ids for {len(self.texts)} texts: give one id per text")
        return self


class ScoredIn(BaseModel):
    label: str
    score: float | None = Field(None, description="the model's score; none for a type a person added (counts as 1)")


class SentenceIn(BaseModel):
    start: int
    end: int
    sub_event_types: list[ScoredIn] = []


class SpanIn(BaseModel):
    start: int
    end: int
    label: str
    score: float | None = None


class DocumentIn(BaseModel):
    """A coded document as the desk holds it after corrections: offsets into ``text``."""

    model_config = ConfigDict(extra="ignore")  # a whole Prediction.to_dict() may be sent back

    id: str
    text: str
    sentences: list[SentenceIn]
    spans: list[SpanIn] = []


class EventsRequest(BaseModel):
    """The body of ``POST /v1/events``."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1)
    document_date: IsoDate | None = Field(None, description="as for /v1/code")
    format: str = Field("json", pattern="^(json|acled)$", description="json: predictions with their event rows; "
                        "acled: the rows as ACLED CSV, as `wirecoder predict --format acled` writes them")


class CodeResponse(BaseModel):
    """The answer of ``POST /v1/code`` (documentation only: the route returns ``Prediction.to_dict()``)."""

    predictions: list[dict] = Field(description="one Prediction.to_dict() per text, in input order: id, text, "
                                    "event_types, sub_event_types, sentences, spans (character offsets) and events")


def _error_line(errors: list[dict]) -> str:
    """``texts.2: Input should be a valid string`` for the first of pydantic's errors."""
    first = errors[0]
    where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "body"
    reason = (first.get("ctx") or {}).get("error")
    return f"{where}: {first['msg']}" + (f" ({reason})" if isinstance(reason, str) and reason not in first["msg"] else "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The raw input is left out: echoing a large body back helps nobody.
        errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
        for e in errors:  # a ValueError in ctx says no more than msg, and is not JSON
            if not isinstance((e.get("ctx") or {}).get("error", ""), str):
                e["ctx"] = {k: v for k, v in e["ctx"].items() if k != "error"}
                if not e["ctx"]:
                    del e["ctx"]
        errors = jsonable_encoder(errors)
        return JSONResponse({"error": _error_line(errors), "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail), "detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def _token_check(token: str | None):
    """A dependency that lets a request through only with ``Authorization: Bearer <token>`` (when one is set)."""
    bearer = HTTPBearer(auto_error=False, description="the server's --token (or WIRECODER_TOKEN)")
    expected = token.encode("utf-8") if token else None

    async def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode("utf-8") if credentials else b""
        # compare_digest: the time taken does not tell how much of the token was right.
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "a valid bearer token is required (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to be over ``max_bytes``."""
    too_large = HTTPException(413, f"the request body is over {max_bytes} bytes (start the server with a larger "
                                   "--max-body-bytes, or send fewer texts per request)")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():  # a body without Content-Length is counted as it arrives
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse(request: Request, model: type[BaseModel], limits: Limits):
    body = await _read_body(request, limits.max_body_bytes)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _check_sizes(req: CodeRequest, limits: Limits) -> None:
    if len(req.texts) > limits.max_texts:
        raise HTTPException(413, f"{len(req.texts)} texts in one request; the limit is {limits.max_texts} "
                                 "(send several requests, or start the server with a larger --max-texts)")
    for i, text in enumerate(req.texts):
        if len(text) > limits.max_chars:
            raise HTTPException(413, f"text {i} has {len(text)} characters; the limit is {limits.max_chars} per text "
                                     "(split the document, or start the server with a larger --max-chars)")


def _bad(doc: DocumentIn, what: str) -> HTTPException:
    return HTTPException(422, f"document {doc.id!r}: {what}")


def rebuild_prediction(doc: DocumentIn, document_date: str | None):
    """The document as a :class:`Prediction` whose event rows come from its (corrected) sentences and
    spans, built by the very function ``predict`` uses. A type or span a person added scores 1."""
    from model.events import build_events
    from model.results import Prediction, ScoredLabel, SentenceResult, SpanResult
    from model.taxonomy import SPAN_LABELS, SUB_EVENT_TYPES, SUB_TO_EVENT

    text, sentences, spans = doc.text, [], []
    for n, s in enumerate(doc.sentences):
        if not 0 <= s.start < s.end <= len(text):
            raise _bad(doc, f"sentence {n} ({s.start}-{s.end}) is outside its text of {len(text)} characters")
        unknown = [x.label for x in s.sub_event_types if x.label not in SUB_EVENT_TYPES]
        if unknown:
            raise _bad(doc, f"sentence {n}: unknown sub-event type {unknown[0]!r}")
        subs = sorted((ScoredLabel(x.label, 1.0 if x.score is None else x.score) for x in s.sub_event_types),
                      key=lambda x: -x.score)
        events: dict[str, float] = {}
        for x in subs:  # an event type scores as its best sub-event type
            events.setdefault(SUB_TO_EVENT[x.label], x.score)
        sentences.append(SentenceResult(s.start, s.end, text[s.start : s.end],
                                        [ScoredLabel(e, v) for e, v in events.items()], subs))
    for sp in sorted(doc.spans, key=lambda x: x.start):
        if sp.label not in SPAN_LABELS:
            raise _bad(doc, f"unknown span label {sp.label!r}")
        home = next((n for n, s in enumerate(sentences) if s.start <= sp.start < sp.end <= s.end), None)
        if home is None:
            raise _bad(doc, f"span {sp.start}-{sp.end} ({sp.label}) is not inside one sentence")
        spans.append(SpanResult(sp.start, sp.end, text[sp.start : sp.end], sp.label, 1.0 if sp.score is None else sp.score, home))
    pred = Prediction(id=doc.id, text=text, sentences=sentences, spans=spans)
    for attr in ("event_types", "sub_event_types"):
        best: dict[str, float] = {}
        for sent in sentences:
            for x in getattr(sent, attr):
                best[x.label] = max(best.get(x.label, 0.0), x.score)
        setattr(pred, attr, [ScoredLabel(k, v) for k, v in sorted(best.items(), key=lambda kv: -kv[1])])
    pred.events = build_events(text, sentences, spans, document_date, doc.id)
    return pred


def create_app(coder, *, model_dir: str | Path | None = None, token: str | None = None, limits: Limits = Limits(),
               cors_origins: list[str] | tuple[str, ...] = (), batch_texts: int = 64, batch_wait_ms: float = 10.0,
               batch_size: int = 64) -> FastAPI:
    """The API and the desk around a loaded coder; the model is never reloaded per request.

    ``batch_texts``/``batch_wait_ms``: a batch is coded once it holds that many texts or its first
    request has waited that long. ``token``: required as a bearer token on every /v1 route but health.
    """
    batcher = MicroBatcher(coder, max_texts=batch_texts, max_wait_ms=batch_wait_ms, batch_size=batch_size)
    info = model_info(coder, model_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        batcher.close()

    app = FastAPIOffline(title="wirecoder", version="1", redoc_url=None, lifespan=lifespan,
                         description="ACLED event coding of conflict reports. `POST /v1/code` codes texts; "
                                     "`GET /` is the coding desk.")
    app.state.batcher = batcher
    _install_error_handlers(app)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    auth = [Depends(_token_check(token))]
    # The body is parsed here, not by FastAPI, so that every malformed body (bad JSON, bad UTF-8, no
    # content type) gets the same 422 with pydantic's reason; the schema is still documented.
    nested: dict[str, dict] = {}

    def body_doc(model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        nested.update(schema.pop("$defs", {}))
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

    default_openapi = app.openapi

    def openapi() -> dict:  # the request bodies' nested models join FastAPI's own schemas
        if app.openapi_schema is None:
            default_openapi().setdefault("components", {}).setdefault("schemas", {}).update(nested)
        return app.openapi_schema

    app.openapi = openapi

    @app.post("/v1/code", dependencies=auth, openapi_extra=body_doc(CodeRequest), response_model=None,
              responses={200: {"model": CodeResponse}, 401: {"description": "no or wrong bearer token"},
                         413: {"description": "body, texts per request or characters per text over the limit"},
                         422: {"description": "the body is not the JSON described here (the reason is in 'error')"}})
    async def code(request: Request) -> JSONResponse:
        """Code reports: one prediction per text, with sentences, spans (character offsets) and event rows."""
        req = await _parse(request, CodeRequest, limits)
        _check_sizes(req, limits)
        try:
            preds = await asyncio.wrap_future(batcher.submit(req.texts, req.ids, req.document_date))
        except WirecoderError as exc:
            raise HTTPException(422, str(exc)) from None
        return JSONResponse({"predictions": [p.to_dict() for p in preds]})

    @app.post("/v1/events", dependencies=auth, openapi_extra=body_doc(EventsRequest), response_model=None,
              responses={200: {"model": CodeResponse, "content": {"text/csv": {}}},
                         422: {"description": "the body is not the JSON described here (the reason is in 'error')"}})
    async def events(request: Request) -> Response:
        """Event rows of coded documents after corrections (the desk sends its sentences and spans back):
        JSON predictions with rebuilt rows, or the rows as ACLED CSV."""
        req = await _parse(request, EventsRequest, limits)
        preds = await run_in_threadpool(lambda: [rebuild_prediction(d, req.document_date) for d in req.documents])
        if req.format == "json":
            return JSONResponse({"predictions": [p.to_dict() for p in preds]})
        from training.writers import AcledCsvWriter

        writer = AcledCsvWriter()
        csv_text = writer.header() + "".join(writer.record(p, p.id, p.id, None) for p in preds) + writer.footer()
        return Response(csv_text, media_type="text/csv; charset=utf-8")

    @app.get("/v1/health")
    async def health() -> dict:
        """Liveness: answers without the token."""
        s = batcher.stats
        return {"status": "ok", "requests": s.requests, "texts": s.texts, "predict_calls": s.predict_calls}

    @app.get("/v1/model", dependencies=auth)
    async def model() -> dict:
        """The labels and thresholds the model codes with, its corpus version and its test metrics."""
        return info

    # The desk is static files (no data, no model): served without the token, it asks for one.
    @app.get("/", include_in_schema=False)
    async def desk() -> FileResponse:
        return FileResponse(DESK_DIR / "index.html")

    app.mount("/desk", StaticFiles(directory=DESK_DIR), name="desk")
    return app
