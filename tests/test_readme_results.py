"""The README's generated tables: rows read from evaluation outputs, written between markers, and the
committed README in step with the committed results files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.errors import WirecoderError
from training.readme_results import add_row, collect, render_table, replace_between

ROOT = Path(__file__).resolve().parents[1]


def _evaluation(sub, spans, overlap, ece=None, weighted=None):
    m = {"sentences": 10, "spans": {"f1": spans}, "spans_overlap": {"f1": overlap},
         "event_types": {"micro_f1": 0.9}, "sub_event_types": {"micro_f1": sub, "weighted_f1": weighted},
         "event_detection_accuracy": 0.95}
    if ece is not None:
        m["calibration_top"] = {"ece": ece}
    return {"model": m}


def test_a_row_from_an_evaluation_folder_renders_as_a_table_line(tmp_path):
    out = tmp_path / "eval"
    (out / "real_text").mkdir(parents=True)
    (out / "evaluation.json").write_text(json.dumps(_evaluation(0.8604, 0.7601, 0.88, ece=0.0177)))
    (out / "real_text" / "evaluation.json").write_text(json.dumps(_evaluation(0.6267, 0.254, 0.422, weighted=0.631)))
    (tmp_path / "metrics.json").write_text(json.dumps({"train_seconds": 1001}))
    results = tmp_path / "r.json"
    add_row(results, collect("default", out, tmp_path / "metrics.json", note="as shipped"))
    table = render_table(json.loads(results.read_text()))
    assert "| default | 0.860 | 0.760 | 0.018 | 0.900 | 0.627 / 0.631 | 0.254 / 0.422 | 16.7 min |" in table
    assert "- *default*: as shipped" in table
    # Adding a row of the same name replaces it.
    add_row(results, collect("default", out))
    assert len(json.loads(results.read_text())) == 1


def test_replace_between_markers_and_a_missing_block_is_an_error():
    text = "a\n<!-- X-START -->\nold\n<!-- X-END -->\nb\n"
    assert replace_between(text, "X", "new") == "a\n<!-- X-START -->\nnew\n<!-- X-END -->\nb\n"
    with pytest.raises(WirecoderError, match="no <!-- Y-START -->"):
        replace_between(text, "Y", "new")


def test_collect_refuses_an_incomplete_folder(tmp_path):
    with pytest.raises(WirecoderError, match="not a complete `wirecoder evaluate` output"):
        collect("x", tmp_path)


@pytest.mark.parametrize("marker, results", [("ABLATION", "scripts/results/ablation.json"),
                                             ("HEADLINE", "scripts/results/test_split.json")])
def test_readme_shows_what_the_results_file_holds(marker, results):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from training.readme_results import render_results

    assert replace_between(readme, marker, render_results(json.loads((ROOT / results).read_text()))) == readme


def test_headline_table_bolds_the_better_system(tmp_path):
    from training.readme_results import collect_headline, render_headline

    ev = {"model": _evaluation(0.86, 0.76, 0.88)["model"], "baseline": _evaluation(0.81, 0.745, 0.8)["model"]}
    ev["model"]["spans"] |= {"precision": 0.743, "recall": 0.777}
    ev["baseline"]["spans"] |= {"precision": 0.75, "recall": 0.771}
    (tmp_path / "evaluation.json").write_text(json.dumps(ev))
    table = render_headline(collect_headline(tmp_path))
    assert "| spans, strict micro F1 (P / R) | **0.760** (0.743 / **0.777**) | 0.745 (**0.750** / 0.771) |" in table
    assert "| event vs no-event accuracy | **0.950** | **0.950** |" in table
