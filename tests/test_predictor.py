"""EventCoder.predict: offsets, long inputs, batching, JSON shape, bad inputs."""

import json

import pytest
import torch

from model.predictor import EventCoder, ModelLoadError
from model.spans import WORD_RE
from model.taxonomy import BIO_TAGS, SUB_EVENT_TYPES

REPORT = (
    "MOGADISHU (Reuters) — Al-Shabaab fighters attacked an army base near Afgoye on Tuesday, killing at least 12 soldiers. "
    "Lt. Col. Ahmed Nur said 30 were wounded. “The situation is calm,” he added.\n\n"
    "Separately, a roadside bomb hit a minibus in Lower Shabelle."
)


def forced(coder, tag="B-LOCATION", sub="Armed clash"):
    """A copy of the coder whose heads always predict one tag and one sub-event type."""
    import copy

    c = copy.deepcopy(coder)
    with torch.no_grad():
        c.model.token_head.weight.zero_()
        c.model.token_head.bias.fill_(-10.0)
        c.model.token_head.bias[BIO_TAGS.index(tag)] = 10.0
        c.model.sentence_head.weight.zero_()
        c.model.sentence_head.bias.fill_(-10.0)
        c.model.sentence_head.bias[SUB_EVENT_TYPES.index(sub)] = 10.0
    return c


def on_word_edges(text, spans):
    """Every span starts where a word of ``text`` starts and ends where one ends (the words found by a
    regex, independently of the tokenizer and of the code under test)."""
    starts = {m.start() for m in WORD_RE.finditer(text)}
    ends = {m.end() for m in WORD_RE.finditer(text)}
    return all(s.start in starts and s.end in ends for s in spans)


def test_every_offset_matches_the_input_text(tiny_coder):
    # Every word forced into its own span: the spans must be exactly the words of the input.
    res = forced(tiny_coder, "B-LOCATION").predict([REPORT, "Short one."])
    for r, text in zip(res, [REPORT, "Short one."]):
        assert r.text == text
        words = list(WORD_RE.finditer(text))
        assert [(s.start, s.end, s.text) for s in r.spans] == [(m.start(), m.end(), m.group()) for m in words]
    assert [(s.start, s.end) for s in res[1].sentences] == [(0, len("Short one."))]
    assert [REPORT[s.start:s.end] for s in res[0].sentences] == [s.text for s in res[0].sentences]
    assert [s.text for s in res[0].sentences] == [
        "MOGADISHU (Reuters) — Al-Shabaab fighters attacked an army base near Afgoye on Tuesday, killing at least 12 soldiers.",
        "Lt. Col. Ahmed Nur said 30 were wounded.",
        "“The situation is calm,” he added.",
        "Separately, a roadside bomb hit a minibus in Lower Shabelle.",
    ]


def test_result_has_the_documented_json_shape(tiny_coder):
    coder = forced(tiny_coder)
    d = coder.predict([REPORT], ids=["r1"])[0].to_dict()
    json.dumps(d)
    assert d["id"] == "r1"
    assert set(d) == {"id", "text", "event_types", "sub_event_types", "sentences", "spans", "events"}
    assert d["event_types"] == [{"label": "Battles", "score": pytest.approx(1.0, abs=1e-3)}]
    assert len(d["events"]) == 4 and d["events"][0]["sub_event_type"] == "Armed clash"
    assert {"actor1", "actor2", "location", "date", "weapons", "fatalities", "injured", "trigger"} <= set(d["events"][0])


def test_a_sentence_longer_than_the_window_is_covered_to_its_last_word(tiny_coder):
    coder = forced(tiny_coder, "B-LOCATION")
    words = [f"village{i}" for i in range(400)]  # ~1,200 sub-words against a 128-token window
    text = " ".join(words)
    r = coder.predict([text])[0]
    assert len(r.sentences) == 1
    assert [s.text for s in r.spans] == words  # every word decoded once, none lost or doubled


def test_a_200k_character_document_is_covered(tiny_coder):
    coder = forced(tiny_coder, "B-LOCATION")
    sentence = "Militia fighters attacked Kisumu."
    text = " ".join([sentence] * 6000)
    assert len(text) > 200_000
    r = coder.predict([text], batch_size=256)[0]
    assert len(r.sentences) == 6000
    assert len(r.spans) == 6000 * 5  # four words and the full stop, in every sentence
    assert (r.spans[-2].text, r.spans[-2].end) == ("Kisumu", len(text) - 1)


def test_batched_and_one_by_one_give_the_same_results(tiny_coder):
    texts = [REPORT, "Police arrested two men in Kaduna on Friday.", "Troops clashed with militants.", "x"]
    together = [r.to_dict() for r in tiny_coder.predict(texts, batch_size=3)]
    alone = [tiny_coder.predict([t])[0].to_dict() for t in texts]
    for a, b in zip(together, alone):
        assert a["spans"] == b["spans"] or all(
            (x["start"], x["end"], x["label"]) == (y["start"], y["end"], y["label"]) and x["score"] == pytest.approx(y["score"], abs=1e-3)
            for x, y in zip(a["spans"], b["spans"])
        )
        assert [s["label"] for s in a["sub_event_types"]] == [s["label"] for s in b["sub_event_types"]]


def test_empty_emoji_control_and_rtl_texts_do_not_break(tiny_coder):
    texts = ["", "   ", "Drones 🚁🔥 hit Odesa\x07 overnight.", "هاجمت قوات الدعم السريع مدينة الفاشر.", "\u202eevil"]
    res = tiny_coder.predict(texts)
    assert res[0].sentences == [] and res[1].sentences == []
    for r, t in zip(res[2:], texts[2:]):
        assert r.sentences
        for s in r.spans:
            sentence = r.sentences[s.sentence]
            assert sentence.start <= s.start < s.end <= sentence.end and t[s.start:s.end].strip() == t[s.start:s.end]


def test_pre_split_mode_keeps_each_text_as_one_sentence(tiny_coder):
    r = tiny_coder.predict(["One. Two. Three."], split_into_sentences=False)[0]
    assert len(r.sentences) == 1


def test_event_only_spans_are_dropped_when_no_event_is_predicted(tiny_coder):
    coder = forced(tiny_coder, "B-TRIGGER")
    with torch.no_grad():
        coder.model.sentence_head.bias.fill_(-10.0)
    r = coder.predict(["Troops clashed with militants."])[0]
    assert r.sub_event_types == [] and r.spans == []


def test_bad_arguments_raise_clear_errors(tiny_coder):
    with pytest.raises(TypeError, match="list of texts"):
        tiny_coder.predict("a string")
    with pytest.raises(TypeError, match="text 1 is int"):
        tiny_coder.predict(["ok", 3])


def test_loading_a_non_wirecoder_directory_fails_clearly(tmp_path, tiny_encoder_dir):
    with pytest.raises(ModelLoadError, match="no such model directory"):
        EventCoder.from_pretrained(tmp_path / "missing")
    with pytest.raises(ModelLoadError, match="no config.json"):
        EventCoder.from_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="not a wirecoder model \\(model_type='bert'\\)"):
        EventCoder.from_pretrained(tiny_encoder_dir)


def test_a_model_with_other_labels_is_refused(tmp_path, tiny_coder):
    tiny_coder.model.save_pretrained(str(tmp_path))
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["sub_event_types"] = cfg["sub_event_types"][:-1] + ["Riot"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="sub-event types differ"):
        EventCoder.from_pretrained(tmp_path)


def test_int8_quantized_coder_keeps_sentences_and_offsets(tiny_encoder_dir):
    from transformers import AutoTokenizer

    from model.modeling import WirecoderModel

    torch.manual_seed(0)
    model = WirecoderModel.from_encoder(str(tiny_encoder_dir), max_length=128)
    fp32 = EventCoder(model, AutoTokenizer.from_pretrained(str(tiny_encoder_dir)), device="cpu")
    a = fp32.predict([REPORT])[0]
    import copy

    q = copy.deepcopy(fp32).quantize()
    assert not isinstance(q.model.encoder.encoder.layer[0].attention.self.query, torch.nn.Linear)
    b = q.predict([REPORT])[0]
    assert [s.text for s in b.sentences] == [s.text for s in a.sentences]
    assert on_word_edges(REPORT, b.spans)


def test_ids_of_the_wrong_length_and_bad_batch_sizes_are_refused(tiny_coder, tmp_path):
    from training.batch_predict import run_predict
    from model.errors import WirecoderError
    from training.readers import InputDoc

    with pytest.raises(WirecoderError, match="2 ids for 1 texts"):
        tiny_coder.predict(["One text."], ids=["a", "b"])
    for bad in (0, -1, "8", 2.5, True):
        with pytest.raises(WirecoderError, match="batch_size must be a positive integer"):
            tiny_coder.predict(["One text."], batch_size=bad)
        out = tmp_path / "out.jsonl"
        with pytest.raises(WirecoderError, match="batch.size must be a positive integer"):
            run_predict(tiny_coder, [InputDoc("a", "One text.", "x:1")], out, batch_size=bad, show_progress=False)
        assert not out.exists()  # refused before any output was written


def test_an_unpunctuated_long_text_runs_in_bounded_forward_passes(tiny_coder):
    # Every window of one long sentence used to go through the encoder in a single pass: memory grew
    # with the text (3.4 GB for 1M characters). Now at most batch_size windows go through at a time,
    # whatever the length (150,000 characters here, to keep the test short).
    coder = forced(tiny_coder, "B-LOCATION")
    words = "gunmen attacked the village and".split()
    n_words = 150_000 // 6
    text = " ".join(words[i % 5] for i in range(n_words))
    shapes = []
    real_forward = coder.model.forward

    def recording_forward(*args, **kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))
        return real_forward(*args, **kwargs)

    coder.model.forward = recording_forward
    r = coder.predict([text], batch_size=16)[0]
    assert len(shapes) > 20 and max(s[0] for s in shapes) <= 16
    assert len(r.sentences) == 1 and len(r.spans) == n_words
    assert (r.spans[-1].start, r.spans[-1].end) == (len(text) - len(r.spans[-1].text), len(text))


def test_where_overlapping_windows_disagree_a_word_takes_the_tag_of_the_window_it_sits_deepest_in(tiny_coder):
    """Pins the merge rule: each window tags the first half of its tokens LOCATION and the second half
    DATE, so in every overlap the two windows disagree. A word takes the tag of the window in which
    it sits farthest from either edge (in tokens); on a tie, the earlier window's."""
    from model.modeling import WirecoderOutput

    loc, date = BIO_TAGS.index("B-LOCATION"), BIO_TAGS.index("B-DATE")

    class HalfAndHalf(torch.nn.Module):
        config = tiny_coder.config

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            n_real = attention_mask.sum(1, keepdim=True)
            pos = torch.arange(input_ids.shape[1]).expand_as(input_ids)
            tags = torch.where(pos * 2 < n_real, loc, date)
            logits = torch.nn.functional.one_hot(tags, len(BIO_TAGS)).float() * 20
            return WirecoderOutput(sentence_logits=torch.zeros(input_ids.shape[0], len(SUB_EVENT_TYPES)), token_logits=logits)

    coder = EventCoder(HalfAndHalf(), tiny_coder.tokenizer, device="cpu")
    words = [("gunmen", "attacked", "the", "village")[i % 4] for i in range(300)]
    text = " ".join(words)
    enc = coder.tokenizer(text, truncation=True, max_length=coder.max_length, stride=coder.stride,
                          return_overflowing_tokens=True, return_offsets_mapping=True)
    assert len(enc["input_ids"]) >= 3  # several windows, so several overlaps
    best = {}  # word index -> (distance from the nearer edge, tag)
    for w in range(len(enc["input_ids"])):
        n = len(enc["input_ids"][w])
        seen = set()
        for t, wid in enumerate(enc.word_ids(w)):
            if wid is None or wid in seen:
                continue
            seen.add(wid)
            cand = (min(t, n - 1 - t), "LOCATION" if 2 * t < n else "DATE")
            if wid not in best or cand[0] > best[wid][0]:
                best[wid] = cand
    expected = [best[i][1] for i in range(len(words))]
    assert "DATE" in expected[:len(expected) // 2]  # the rule is visible: both tags occur early on
    got = [s.label for s in coder.predict([text])[0].spans]
    assert got == expected
