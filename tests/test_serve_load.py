"""The load test, small and bounded: 200 one-text requests from 10 concurrent clients against a
`wirecoder serve` process; no request lost, none answered differently from offline `predict`."""

from training.benchmark import corpus_texts
from training.serve_load import format_load_test, run_load_test


def test_concurrent_clients_lose_nothing_and_get_predicts_answers(saved_model_dir):
    texts = corpus_texts("sentences", 60)
    result = run_load_test(saved_model_dir, texts, n_requests=200, clients=10, time_limit=300)
    assert (result["ok"], result["wrong"], result["lost"], result["not_sent"]) == (200, 0, 0, 0)
    # Coded together: fewer predict calls than requests.
    assert 1 <= result["server_predict_calls"] < 200
    assert "200 requests from 10 concurrent clients: 200 answered exactly as offline predict" in format_load_test(result)


def test_difference_tells_a_last_digit_from_a_wrong_answer():
    from training.serve_load import difference

    want = {"id": "r1", "spans": [{"label": "ACTOR", "score": 0.9123}], "events": []}
    assert difference(want, want) == (None, True)
    assert difference({**want, "spans": [{"label": "ACTOR", "score": 0.9124}]}, want) == (
        "spans.0.score: 0.9124 != 0.9123", True)
    assert difference({**want, "spans": [{"label": "TARGET", "score": 0.9123}]}, want) == (
        "spans.0.label: 'TARGET' != 'ACTOR'", False)
    assert difference({**want, "spans": []}, want) == ("spans length 0 != 1", False)
    assert difference({**want, "spans": [{"label": "ACTOR", "score": 0.95}]}, want)[1] is False
