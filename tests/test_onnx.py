"""`wirecoder export` and the ONNX Runtime backend: the same pipeline, only the forward pass differs."""

import json
import shutil

import pytest

from conftest import MINI_CORPUS
from model.errors import ModelLoadError, WirecoderError
from model.onnx_runtime import OnnxModel
from model.predictor import EventCoder
from training.cli import main

# Short and long sentences, several per text, one longer than the tiny model's 128 tokens (windows).
TEXTS = [
    "Gunmen killed two farmers near Gao on Monday. Police arrested two men in Kaduna.",
    "Teachers marched through Nairobi on Thursday.",
    "The army shelled positions north of Palmyra, killing four fighters, " * 12 + "officials said.",
    "",
    "Rebels attacked a convoy near Goma; three soldiers were wounded and the attackers fled into the forest.",
]


def _compare(a, b, tolerance):
    """Same sentences, labels and spans; scores equal up to ``tolerance``."""
    assert [p.id for p in a] == [p.id for p in b]
    for pa, pb in zip(a, b):
        assert [(s.start, s.end) for s in pa.sentences] == [(s.start, s.end) for s in pb.sentences]
        assert [(s.start, s.end, s.label) for s in pa.spans] == [(s.start, s.end, s.label) for s in pb.spans]
        assert [x.label for x in pa.sub_event_types] == [x.label for x in pb.sub_event_types]
        for x, y in zip(pa.sub_event_types + pa.spans, pb.sub_event_types + pb.spans):
            assert x.score == pytest.approx(y.score, abs=tolerance)


@pytest.fixture(scope="module")
def export_dir(saved_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    assert main(["export", "--model", str(saved_model_dir), "--format", "onnx", "-o", str(out)]) == 0
    return out


def test_export_directory_loads_and_predicts_like_pytorch(saved_model_dir, export_dir):
    assert sorted(p.name for p in export_dir.iterdir() if p.suffix in (".json", ".onnx")) == [
        "config.json", "model.onnx", "tokenizer.json", "tokenizer_config.json"]
    onnx_coder = EventCoder.from_pretrained(export_dir)
    assert isinstance(onnx_coder.model, OnnxModel) and not onnx_coder.model.int8
    torch_coder = EventCoder.from_pretrained(saved_model_dir, device="cpu")
    assert onnx_coder.max_length == torch_coder.max_length == 128
    # Batch size 2: padding inside a batch, and the long text's windows split over forward passes.
    _compare(onnx_coder.predict(TEXTS, batch_size=2), torch_coder.predict(TEXTS, batch_size=2), 1e-3)


def test_dynamic_axes_any_batch_and_length(export_dir):
    coder = EventCoder.from_pretrained(export_dir)
    enc = coder.tokenizer(["a", "Police arrested two men in Kaduna on Friday night."] * 3, padding=True, return_tensors="np")
    sent, tok = coder.model(dict(enc))
    assert sent.shape == (6, 25) and tok.shape == (6, enc["input_ids"].shape[1], 17)


def test_an_export_in_the_model_directory_is_the_cpu_default(saved_model_dir, tmp_path, capsys):
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    assert main(["export", "--model", str(model_dir)]) == 0  # -o defaults to the model directory
    assert (model_dir / "model.onnx").is_file()
    assert isinstance(EventCoder.from_pretrained(model_dir).model, OnnxModel)
    assert not isinstance(EventCoder.from_pretrained(model_dir, backend="torch").model, OnnxModel)

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    outs = {}
    for backend in ("auto", "torch"):
        outs[backend] = tmp_path / f"{backend}.jsonl"
        assert main(["predict", str(src), "--model", str(model_dir), "-o", str(outs[backend]), "--backend", backend]) == 0
    rows = {b: [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()] for b, p in outs.items()}
    def unscored(rows):  # scores may differ in the last rounded digit; everything else is equal
        return [[{k: v for k, v in s.items() if k != "score"} for s in r.get("spans", [])] for r in rows]

    assert unscored(rows["auto"]) == unscored(rows["torch"])
    assert [r.get("sentences") for r in rows["auto"]] == [r.get("sentences") for r in rows["torch"]]
    assert [r.get("error") for r in rows["auto"]] == [None, None, None, "empty or whitespace-only text", None]


def test_int8_export_is_preferred_and_close_to_fp32(saved_model_dir, export_dir, tmp_path):
    out = tmp_path / "int8"
    shutil.copytree(export_dir, out)
    assert main(["export", "--model", str(saved_model_dir), "--quantize", "int8", "-o", str(out)]) == 0
    coder = EventCoder.from_pretrained(out)
    assert coder.model.int8 and coder.model.file.name == "model_int8.onnx"
    fp32 = EventCoder.from_pretrained(export_dir)
    enc = coder.tokenizer(TEXTS[:2], padding=True, return_tensors="np")
    (s8, t8), (s32, t32) = coder.model(dict(enc)), fp32.model(dict(enc))
    # int8 weights move the logits a little, not to other values altogether.
    assert abs(s8 - s32).max() < 0.1 and abs(t8 - t32).max() < 0.1
    assert abs(s8 - s32).max() > 0  # and it really is another graph


def test_backend_errors_are_one_clear_message(saved_model_dir, export_dir, tmp_path, capsys):
    with pytest.raises(ModelLoadError, match="no ONNX export"):
        EventCoder.from_pretrained(saved_model_dir, backend="onnx")
    with pytest.raises(WirecoderError, match="backend must be"):
        EventCoder.from_pretrained(export_dir, backend="tensorrt")
    with pytest.raises(WirecoderError, match="int8 ONNX export comes from"):
        EventCoder.from_pretrained(export_dir, backend="onnx", quantize=True)
    with pytest.raises(WirecoderError, match="wirecoder export --quantize int8"):
        EventCoder.from_pretrained(export_dir).quantize()
    (tmp_path / "config.json").write_text("{}")
    assert main(["export", "--model", str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    assert "not a wirecoder model" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(export_dir, broken)
    (broken / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(ModelLoadError, match="not a loadable ONNX model"):
        EventCoder.from_pretrained(broken)


def test_calibrate_scores_the_pytorch_weights_not_an_int8_export_beside_them(int8_export_beside_weights, loaded_backends):
    from training.calibration import calibrate_model

    calibrate_model(int8_export_beside_weights, [str(MINI_CORPUS)])
    assert loaded_backends == ["WirecoderModel"]
    # Without the flag a plain load of the same directory runs the int8 graph on the CPU.
    assert isinstance(EventCoder.from_pretrained(int8_export_beside_weights, device="cpu").model, OnnxModel)


def _scores(prediction):
    return [x.score for x in prediction.sub_event_types], [(s.start, s.end, s.label, s.score) for s in prediction.spans]


def test_int8_scores_do_not_depend_on_the_batch(saved_model_dir, tmp_path):
    out = tmp_path / "int8"
    assert main(["export", "--model", str(saved_model_dir), "--quantize", "int8", "-o", str(out)]) == 0
    coder = EventCoder.from_pretrained(out)
    assert coder.model.int8
    short = "Police arrested two men in Kaduna."
    longer = [TEXTS[0] + " " + TEXTS[4], "The army said it killed " + "several fighters near Palmyra and " * 5 + "Idlib."]
    alone = coder.predict([short], split_into_sentences=False)[0]
    # One batch: the short sentence padded to the longer ones, whose activations are far larger.
    batched = coder.predict([longer[0], short, longer[1]], split_into_sentences=False, batch_size=64)[1]
    (sub_alone, spans_alone), (sub_batched, spans_batched) = _scores(alone), _scores(batched)
    # Token scores are bit-identical; the sentence head's one-row and many-row matrix products may
    # round the last float bit differently (so does the fp32 graph), nothing more.
    assert spans_batched == spans_alone
    assert len(sub_batched) == len(sub_alone) and all(abs(a - b) < 1e-6 for a, b in zip(sub_alone, sub_batched))


def test_static_int8_runs_the_attention_projections_in_int8_too(saved_model_dir, tmp_path):
    # A fused Attention node kept its Q/K/V projections in fp32 (static int8 quantizes MatMul nodes
    # only): the export leaves attention unfused for static int8, so every dense layer is int8.
    import onnx
    import torch

    from model.loading import load_model_dir

    out = tmp_path / "int8"
    assert main(["export", "--model", str(saved_model_dir), "--quantize", "int8", "-o", str(out)]) == 0
    graph = onnx.load(str(out / "model_int8.onnx")).graph
    weights = {i.name: i for i in graph.initializer}
    int8_matrices = {n.input[0] for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in weights
                     and weights[n.input[0]].data_type == onnx.TensorProto.INT8 and len(weights[n.input[0]].dims) == 2}
    model, _ = load_model_dir(saved_model_dir)
    encoder_linears = sum(isinstance(m, torch.nn.Linear) for m in model.encoder.encoder.modules())
    assert encoder_linears == 6 * model.config.encoder_config.num_hidden_layers  # Q, K, V, output, FFN in, FFN out
    assert len(int8_matrices) >= encoder_linears + 1  # + the token head
    assert not [n for n in graph.node if n.op_type == "Attention"]


def test_calibration_sentences_are_a_fixed_sample_of_the_train_split():
    from training.quantize import calibration_sentences

    every = calibration_sentences(100, data=MINI_CORPUS)
    assert len(every) == 12  # the four train reports' sentences, no dev or test one
    assert "The group has an estimated 7,000 fighters." in every
    assert "Officials warned of more strikes before winter." not in every  # dev
    assert not any(s.startswith("The government and the ELN signed") for s in every)  # test
    assert calibration_sentences(5, data=MINI_CORPUS) == calibration_sentences(5, data=MINI_CORPUS)
    assert set(calibration_sentences(5, data=MINI_CORPUS)) < set(every)


def test_calibration_reader_yields_length_sorted_padded_batches_of_the_given_sizes(saved_model_dir):
    from model.loading import load_tokenizer
    from training.quantize import CorpusCalibrationReader

    names = ["input_ids", "attention_mask"]  # the tiny tokenizer's inputs
    reader = CorpusCalibrationReader(["the army", "the army killed the police", "police", "the police said"],
                                     load_tokenizer(saved_model_dir), 128, names, batch_sizes=(1, 2))
    batches = []
    while (batch := reader.get_next()) is not None:
        batches.append(batch)
    # Longest first, batch sizes 1, 2, 1; each batch padded to its longest sentence ([CLS] ... [SEP]).
    assert [b["attention_mask"].tolist() for b in batches] == [
        [[1] * 7], [[1] * 5, [1, 1, 1, 1, 0]], [[1] * 3]]
    assert all(sorted(b) == sorted(names) and all(v.dtype == "int64" for v in b.values()) for b in batches)
    reader.rewind()
    assert reader.get_next()["input_ids"].tolist() == batches[0]["input_ids"].tolist()
