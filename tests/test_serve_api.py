"""`wirecoder serve`'s HTTP API on the tiny model: answers equal to direct `predict` calls, ids, the
health and model routes, the token, size limits (413), malformed bodies (422, never 500), CORS, and
concurrent requests coded together in fewer `predict` calls."""

import asyncio
import json
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from model.errors import WirecoderError
from model.taxonomy import SUB_EVENT_TYPES
from training.serve import Limits, create_app

REPORT = ("Syrian army troops clashed with Islamic State fighters near Palmyra on Monday, killing four militants. "
          "The army said it would push towards the airbase next week.")
OTHER = "Police arrested two men in Kaduna."


class RecordingCoder:
    """The real tiny coder behind a counter of predict calls (and the keyword arguments they got)."""

    def __init__(self, coder, fail_on: str | None = None):
        self.coder, self.fail_on = coder, fail_on
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def __getattr__(self, name):  # config, thresholds, max_length: the model's own
        return getattr(self.coder, name)

    def predict(self, texts, **kwargs):
        with self.lock:
            self.calls.append({"texts": list(texts), **kwargs})
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise WirecoderError(f"cannot code a text holding {self.fail_on!r}")
        kwargs.pop("document_date", None)  # the recorder checks it is passed; the tiny model need not use it
        return self.coder.predict(texts, **kwargs)


def direct(coder, texts, ids=None):
    return [p.to_dict() for p in coder.predict(texts, ids=ids)]


@pytest.fixture()
def client(tiny_coder):
    with TestClient(create_app(tiny_coder)) as c:
        yield c


def test_code_returns_one_prediction_per_text_equal_to_direct_predict(client, tiny_coder):
    r = client.post("/v1/code", json={"texts": [REPORT, OTHER], "ids": ["a", "b"]})
    assert r.status_code == 200
    preds = r.json()["predictions"]
    assert [p["id"] for p in preds] == ["a", "b"]
    assert [p["text"] for p in preds] == [REPORT, OTHER]
    first = REPORT.split(". ", 1)[0] + "."
    assert (preds[0]["sentences"][0]["start"], preds[0]["sentences"][0]["end"]) == (0, len(first))
    assert preds == direct(tiny_coder, [REPORT, OTHER], ids=["a", "b"])
    for p in preds:  # every key of Prediction.to_dict(), event rows included
        assert set(p) == {"id", "text", "event_types", "sub_event_types", "sentences", "spans", "events"}


def test_ids_default_to_positions(client):
    preds = client.post("/v1/code", json={"texts": [OTHER, REPORT, OTHER]}).json()["predictions"]
    assert [p["id"] for p in preds] == ["0", "1", "2"]


def test_health_and_model_routes(client, tiny_coder):
    assert client.get("/v1/health").json()["status"] == "ok"
    info = client.get("/v1/model").json()
    assert info["sub_event_types"] == list(SUB_EVENT_TYPES) and len(info["sub_event_types"]) == 25
    assert info["span_labels"] == ["ACTOR", "TARGET", "LOCATION", "DATE", "WEAPON", "FATALITIES", "INJURED", "TRIGGER"]
    assert info["taxonomy"]["Riots"] == ["Violent demonstration", "Mob violence"]
    assert info["thresholds"] == {s: 0.5 for s in SUB_EVENT_TYPES}  # the untrained model's defaults
    assert info["metrics"] is None  # no metrics.json beside an in-memory model


def test_model_route_reads_the_trained_directory(saved_model_dir, tiny_coder, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for f in saved_model_dir.iterdir():
        (model_dir / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["corpus_version"] = "sha256:0123456789ab"
    cfg["thresholds"] = [0.25] * 24 + [0.75]
    (model_dir / "config.json").write_text(json.dumps(cfg))
    metrics = {"base_model_id": "tiny", "sentences": {"train": 10, "dev": 2, "test": 3}, "best_dev_combined_f1": 0.5,
               "log_history": [{"loss": 1.0}],
               "test": {"model": {"sentences": 3, "event_detection_accuracy": 0.9,
                                  "sub_event_types": {"micro_f1": 0.8, "macro_f1": 0.7, "weighted_f1": 0.75, "per_class": {}},
                                  "event_types": {"micro_f1": 0.85, "macro_f1": 0.8},
                                  "spans": {"precision": 0.6, "recall": 0.5, "f1": 0.55, "per_label": {}}}}}
    (model_dir / "metrics.json").write_text(json.dumps(metrics))
    from model.predictor import EventCoder

    with TestClient(create_app(EventCoder.from_pretrained(model_dir, device="cpu"), model_dir=model_dir)) as c:
        info = c.get("/v1/model").json()
    assert info["corpus_version"] == "sha256:0123456789ab"
    assert info["thresholds"]["Armed clash"] == 0.25 and info["thresholds"]["Other"] == 0.75
    m = info["metrics"]
    assert m["sentences"] == {"train": 10, "dev": 2, "test": 3} and m["best_dev_combined_f1"] == 0.5
    assert m["test"]["sub_event_types"] == {"micro_f1": 0.8, "macro_f1": 0.7, "weighted_f1": 0.75}
    assert m["test"]["spans"] == {"precision": 0.6, "recall": 0.5, "f1": 0.55}
    assert m["test"]["event_detection_accuracy"] == 0.9
    assert "log_history" not in m


def test_token_required_everywhere_but_health(tiny_coder):
    with TestClient(create_app(tiny_coder, token="s3cret-token")) as c:
        body = {"texts": [OTHER]}
        assert c.post("/v1/code", json=body).status_code == 401
        wrong = c.post("/v1/code", json=body, headers={"Authorization": "Bearer s3cret-tokeN"})
        assert wrong.status_code == 401 and "bearer token" in wrong.json()["error"]
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert c.get("/v1/model").status_code == 401
        assert c.get("/v1/health").status_code == 200
        ok = c.post("/v1/code", json=body, headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["predictions"][0]["text"] == OTHER
        assert c.get("/v1/model", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_size_limits_answer_413_with_the_limit(tiny_coder):
    limits = Limits(max_body_bytes=2000, max_texts=3, max_chars=300)
    with TestClient(create_app(tiny_coder, limits=limits)) as c:
        r = c.post("/v1/code", json={"texts": [OTHER] * 4})
        assert r.status_code == 413 and r.json()["error"].startswith("4 texts in one request; the limit is 3")
        r = c.post("/v1/code", json={"texts": [OTHER, "x" * 301]})
        assert r.status_code == 413 and r.json()["error"].startswith("text 1 has 301 characters; the limit is 300")
        r = c.post("/v1/code", content=json.dumps({"texts": ["word " * 500]}), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "over 2000 bytes" in r.json()["error"]

        def chunks():  # no Content-Length: counted as it arrives
            yield b'{"texts": ["'
            for _ in range(50):
                yield b"word " * 20
            yield b'"]}'

        r = c.post("/v1/code", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "over 2000 bytes" in r.json()["error"]
        assert c.post("/v1/code", json={"texts": [OTHER] * 3}).status_code == 200


@pytest.mark.parametrize("body, where, reason", [
    (b'{"texts": ["a"', "body", "Invalid JSON"),
    (b"", "body", "Invalid JSON"),
    (b'\xff\xfe{"texts": []}', "body", "Invalid JSON"),
    (b"[1, 2]", "body", "Input should be an object"),
    (b'{"text": "a"}', "texts", "Field required"),
    (b'{"texts": []}', "texts", "at least 1 item"),
    (b'{"texts": ["a", 3]}', "texts.1", "valid string"),
    (b'{"texts": ["a"], "ids": ["1", "2"]}', "body", "2 ids for 1 texts"),
    (b'{"texts": ["a"], "document_date": "2024-13-01"}', "document_date", "not a date written YYYY-MM-DD"),
    (b'{"texts": ["a"], "document_date": "20240301"}', "document_date", "not a date written YYYY-MM-DD"),
])
def test_malformed_bodies_answer_422_with_the_reason(client, body, where, reason):
    r = client.post("/v1/code", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"].startswith(f"{where}: ") and reason in r.json()["error"]


def test_body_without_content_type_is_read_as_json(client):
    r = client.post("/v1/code", content=json.dumps({"texts": [OTHER]}).encode())
    assert r.status_code == 200 and r.json()["predictions"][0]["text"] == OTHER


def test_no_cors_unless_asked(tiny_coder):
    origin = {"Origin": "https://desk.example.org"}
    with TestClient(create_app(tiny_coder)) as c:
        assert "access-control-allow-origin" not in c.get("/v1/health", headers=origin).headers
    with TestClient(create_app(tiny_coder, cors_origins=["https://desk.example.org"])) as c:
        assert c.get("/v1/health", headers=origin).headers["access-control-allow-origin"] == "https://desk.example.org"
        other = {"Origin": "https://evil.example.com"}
        assert "access-control-allow-origin" not in c.get("/v1/health", headers=other).headers


def test_docs_and_desk_are_served_without_a_cdn(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    for src in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/static-offline-docs/{src}").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "texts" in schema["paths"]["/v1/code"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "http://" not in page.text and "https://" not in page.text  # everything comes from this server


def test_concurrent_requests_share_predict_calls_and_get_their_own_answers(tiny_coder):
    words = "the army killed two police officers in Kaduna on Monday and protesters marched through the city".split()
    requests = [{"texts": [" ".join(words[i % 7:]) + ".", f"{OTHER} Gunmen attacked {i} villages."], "ids": [f"r{i}", f"s{i}"]}
                for i in range(24)]
    expected = [direct(tiny_coder, r["texts"], ids=r["ids"]) for r in requests]
    recorder = RecordingCoder(tiny_coder)
    # Long wait, batch as large as all the texts: the batch closes once every request is in.
    app = create_app(recorder, batch_texts=48, batch_wait_ms=5000)

    async def send_all():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as c:
            return await asyncio.gather(*(c.post("/v1/code", json=r) for r in requests))

    answers = asyncio.run(send_all())
    app.state.batcher.close()
    assert [a.status_code for a in answers] == [200] * 24
    assert [a.json()["predictions"] for a in answers] == expected
    assert 1 <= len(recorder.calls) < 24
    assert sum(len(c["texts"]) for c in recorder.calls) == 48


def test_document_date_is_passed_to_predict_per_text(tiny_coder):
    recorder = RecordingCoder(tiny_coder)
    with TestClient(create_app(recorder, batch_wait_ms=0)) as c:
        assert c.post("/v1/code", json={"texts": [OTHER, REPORT], "document_date": "2024-03-05"}).status_code == 200
        assert c.post("/v1/code", json={"texts": [OTHER]}).status_code == 200
    assert recorder.calls[0]["document_date"] == ["2024-03-05", "2024-03-05"]
    assert "document_date" not in recorder.calls[1]


def test_a_failing_request_does_not_fail_its_batch(tiny_coder):
    recorder = RecordingCoder(tiny_coder, fail_on="BOOM")
    app = create_app(recorder, batch_texts=3, batch_wait_ms=5000)

    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as c:
            return await asyncio.gather(c.post("/v1/code", json={"texts": [OTHER]}),
                                        c.post("/v1/code", json={"texts": ["BOOM went the bomb."]}),
                                        c.post("/v1/code", json={"texts": [REPORT]}))

    good, bad, good2 = asyncio.run(send())
    app.state.batcher.close()
    assert bad.status_code == 422 and "BOOM" in bad.json()["error"]
    assert good.json()["predictions"] == direct(tiny_coder, [OTHER])
    assert good2.json()["predictions"] == direct(tiny_coder, [REPORT])


def test_events_of_an_unchanged_prediction_are_predicts_own(client, tiny_coder):
    from training.writers import AcledCsvWriter

    [pred] = tiny_coder.predict([REPORT], ids=["doc-1"], document_date="2024-03-05")
    doc = pred.to_dict()  # what the desk holds, sent back as it is
    r = client.post("/v1/events", json={"documents": [doc], "document_date": "2024-03-05"})
    assert r.status_code == 200
    assert r.json()["predictions"][0]["events"] == doc["events"]
    csv_answer = client.post("/v1/events", json={"documents": [doc], "document_date": "2024-03-05", "format": "acled"})
    writer = AcledCsvWriter()
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text == writer.header() + writer.record(pred, "doc-1", "doc-1", None)


def test_events_follow_corrected_types_and_spans(client):
    text = "Gunmen killed two farmers near Gao on Monday. The mayor spoke."
    doc = {"id": "d", "text": text,
           "sentences": [{"start": 0, "end": 44, "sub_event_types": [{"label": "Attack", "score": None}]},
                         {"start": 45, "end": len(text), "sub_event_types": []}],
           "spans": [{"start": 0, "end": 6, "label": "ACTOR"}, {"start": 14, "end": 25, "label": "TARGET"},
                     {"start": 31, "end": 34, "label": "LOCATION"}]}
    rows = client.post("/v1/events", json={"documents": [doc]}).json()["predictions"][0]["events"]
    assert [(r["sub_event_type"], r["event_type"], r["actor1"], r["actor2"], r["score"]) for r in rows] == [
        ("Attack", "Violence against civilians", "Gunmen", "two farmers", 1.0)]


@pytest.mark.parametrize("change, reason", [
    ({"spans": [{"start": 40, "end": 50, "label": "ACTOR"}]}, "is not inside one sentence"),
    ({"spans": [{"start": 0, "end": 6, "label": "PERSON"}]}, "unknown span label 'PERSON'"),
    ({"sentences": [{"start": 0, "end": 99}]}, "outside its text"),
    ({"sentences": [{"start": 0, "end": 44, "sub_event_types": [{"label": "Shooting"}]}]}, "unknown sub-event type 'Shooting'"),
])
def test_events_refuse_inconsistent_documents_with_422(client, change, reason):
    doc = {"id": "d", "text": "Gunmen killed two farmers near Gao on Monday. The mayor spoke.",
           "sentences": [{"start": 0, "end": 44}, {"start": 45, "end": 62}], "spans": [], **change}
    r = client.post("/v1/events", json={"documents": [doc]})
    assert r.status_code == 422 and r.json()["error"].startswith("document 'd': ") and reason in r.json()["error"]


def test_serve_command_loads_the_model_once_and_takes_the_token_from_the_environment(saved_model_dir, monkeypatch):
    import uvicorn

    from model.predictor import EventCoder
    from training.cli import main

    seen, loads = {}, []
    real_load = EventCoder.from_pretrained.__func__
    monkeypatch.setattr(EventCoder, "from_pretrained", classmethod(lambda cls, *a, **k: loads.append(a) or real_load(cls, *a, **k)))
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: seen.update(app=app, host=host, port=port))
    monkeypatch.setenv("WIRECODER_TOKEN", "from-the-env")
    assert main(["serve", "--model", str(saved_model_dir), "--port", "8123"]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    with TestClient(seen["app"]) as c:
        assert c.get("/v1/model").status_code == 401
        auth = {"Authorization": "Bearer from-the-env"}
        assert c.get("/v1/model", headers=auth).json()["model_dir"] == str(saved_model_dir)
        for _ in range(3):
            assert c.post("/v1/code", json={"texts": [OTHER]}, headers=auth).status_code == 200
    assert len(loads) == 1


def test_serve_command_without_the_extra_says_how_to_install_it(monkeypatch, capsys):
    import builtins

    from training.cli import main

    real_import = builtins.__import__

    def no_uvicorn(name, *args, **kwargs):
        if name == "uvicorn":
            raise ImportError("No module named 'uvicorn'", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    assert main(["serve", "--model", "whatever"]) == 1
    assert "pip install 'wirecoder[serve]'" in capsys.readouterr().err


def test_serve_backend_torch_runs_the_pytorch_weights_beside_an_int8_export(int8_export_beside_weights, loaded_backends,
                                                                          monkeypatch):
    import uvicorn

    from training.cli import main

    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: None)
    assert main(["serve", "--model", str(int8_export_beside_weights), "--device", "cpu"]) == 0
    assert main(["serve", "--model", str(int8_export_beside_weights), "--device", "cpu", "--backend", "torch"]) == 0
    assert loaded_backends == ["OnnxModel", "WirecoderModel"]
