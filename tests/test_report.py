"""The report's pages (rnnhmm.report) and its grouping of the figures (rnnhmm.figures.group)."""

import math
import re

import pandas as pd
import pytest

from rnnhmm import figures, io, report


def test_every_figure_has_one_group_from_its_name():
    groups = {name: figures.group(name) for name in figures.FIGURES}
    assert {n for n, g in groups.items() if g == "main"} == {n for n in figures.FIGURES if re.match(r"fig\d+_", n)}
    assert all(g == "supplementary" for n, g in groups.items() if n.startswith("figS"))
    assert all(g == "new" for n, g in groups.items() if n.startswith("figN"))
    assert sum(g == "main" for g in groups.values()) == 11
    with pytest.raises(KeyError, match="unknown figure 'fig99'"):
        figures.group("fig99")


def test_the_training_curves_sit_with_the_evaluation_tables():
    assert figures.report_category(figures.TRAINING_CURVES) == figures.TRAINING_CATEGORY
    others = {figures.report_category(n) for n in figures.FIGURES if n != figures.TRAINING_CURVES}
    assert others == {"Figures"}
    subs = {figures.report_subcategory(n) for n in figures.FIGURES if n != figures.TRAINING_CURVES}
    assert subs == set(figures.GROUPS.values())


def _cells(page: str, model: str) -> list[str]:
    row = re.search(rf"<tr><td>{model}</td>(.*?)</tr>", page)
    assert row, model
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_evaluation_page_has_one_row_per_model_with_its_values():
    training = pd.DataFrame([
        {"hmm": "chain2", "hidden": 16, "dim": 4, "seed": 0, "best_epoch": 7, "best_val_loss": 1.23456,
         "final_val_loss": 2.0, "final_train_loss": 2.1, "n_epochs": 10, "val_floor": 1.0,
         "best_val_excess": 0.23456, "final_val_excess": 1.0},
        {"hmm": "fully3", "hidden": 16, "dim": 4, "seed": 1, "best_epoch": 1, "best_val_loss": math.nan,
         "final_val_loss": math.nan, "final_train_loss": math.nan, "n_epochs": 1, "val_floor": 0.5,
         "best_val_excess": math.nan, "final_val_excess": math.nan}])
    metrics = pd.DataFrame([
        {"hmm": "chain2", "hidden": 16, "dim": 4, "seed": 0, "T_eval": 30, "N": 100, "metric": "l1_freq", "value": 0.125},
        {"hmm": "chain2", "hidden": 16, "dim": 4, "seed": 0, "T_eval": 30, "N": 100, "metric": "volatility", "value": 0.5},
        {"hmm": "chain2", "hidden": 16, "dim": 4, "seed": 0, "T_eval": 100, "N": 100, "metric": "l1_freq", "value": 0.25}])
    page = report.evaluation_html("smoke", training, metrics)
    # n_epochs, best_epoch, best_val_loss, final_val_loss, val_floor, best_val_excess, final_val_excess
    assert _cells(page, "chain2_h16_d4_s0") == ["10", "7", "1.235", "2", "1", "0.2346", "1"]
    assert _cells(page, "fully3_h16_d4_s1") == ["1", "1", "NaN", "NaN", "0.5", "NaN", "NaN"]
    # the metrics: one row per (model, length), one column per metric; a metric not measured is NaN
    rows = re.findall(r"<tr><td>chain2_h16_d4_s0</td>(.*?)</tr>", page)
    assert [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows[1:]] == [["30", "0.125", "0.5"], ["100", "0.25", "NaN"]]
    assert "<th>l1_freq</th><th>volatility</th>" in page


def test_evaluation_page_of_a_preset_without_models_says_so():
    page = report.evaluation_html("empty", pd.DataFrame(), pd.DataFrame())
    assert "No trained model in this preset." in page and "No evaluation metrics in this preset." in page


def test_provenance_page_lists_each_figure_from_its_sidecar(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    made, old = tmp_path / "figA.png", tmp_path / "figB.png"
    made.write_bytes(b"png")
    old.write_bytes(b"png")
    record = io.provenance({"preset": "smoke", "x": 1}, None, figure="figA",
                           inputs=io.files_sha256([str(table), str(tmp_path / "missing.csv")]))
    io.write_sidecar(made, record)
    page = report.provenance_html("smoke", [str(made), str(old)])
    sha = io.file_sha256(table)
    assert f"<code>{sha[:12]}</code>" in page and "missing.csv <code>missing</code>" in page
    assert f"<code>{record['git_commit']}</code>" in page
    assert "<tr><td>figB</td><td colspan='4'>no provenance recorded</td></tr>" in page
    assert "&quot;x&quot;: 1" in page  # the configuration the figure was given
    assert "<td>torch</td>" in page  # the package versions of the run
