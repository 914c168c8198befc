"""The Snakemake workflow: the smoke preset end to end, the paper DAG, config errors, code reruns."""

import json
import re
import time

import pandas as pd
import pytest
import yaml

from conftest import copy_repo, snakemake
from rnnhmm import figures, io, plan

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# docs/claims.md: (claim, check) -> the HMMs whose reference model it is measured on ("chains": one row
# over the chain models together)
REFS, REF2, COMPOSITIONAL = ("chain2", "chain3", "chain4", "chain5", "fully3", "cyclic4"), ("chain2",), ("fully3", "cyclic4")
CLAIM_CHECKS = {
    ("C1", "matched_distance"): REFS, ("C1", "transmat_sse"): REFS, ("C1", "switch_rate"): REFS,
    ("C2", "noinput_to_origin"): REFS, ("C2", "other_attractors"): REFS,
    ("C3", "switch_rate_dominant"): REFS, ("C3", "phase_sets_symbol"): REFS,
    ("C4", "cluster_share"): REFS, ("C4", "unstable_kick_vs_cluster"): REFS,
    ("C5", "kick_group_found"): REF2, ("C5", "silencing_stops_switching"): REF2, ("C5", "kick_beats_random"): REF2,
    ("C5", "kick_signature"): REF2, ("C5", "noise_population_needed"): REF2,
    ("C6", "bifurcation_found"): REF2, ("C6", "emergence_coincides"): REF2, ("C6", "resonant_noise"): REFS,
    ("C7", "orbits_per_pair"): COMPOSITIONAL, ("C7", "pair_cluster_share"): COMPOSITIONAL,
    ("C7", "readout_tilt"): "chains",
}
CLAIM_COLUMNS = ["claim", "check", "model", "value", "criterion", "pass", "value_untrained", "pass_untrained",
                 "value_shuffled", "pass_shuffled", "value_iid", "pass_iid", "controls", "discriminates", "counts",
                 "source"]


# smoke_run (the smoke preset end to end, once per session) lives in conftest.py: the determinism
# test in test_reliability.py compares a second run against it.


@pytest.mark.workflow
def test_smoke_workflow_renders_every_figure(smoke_run):
    work, res, wall = smoke_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for name in figures.FIGURES:
        pdf, png = work / f"figures/smoke/{name}.pdf", work / f"figures/smoke/{name}.png"
        assert pdf.read_bytes()[:5] == b"%PDF-", name
        head = png.read_bytes()
        assert head[:8] == PNG_MAGIC and len(head) > 5000, name
    # the claims check: one row per (claim, check, reference model) of docs/claims.md, measured on the
    # trained model and on its controls; smoke models are barely trained, so whether a check passes is
    # not asserted
    table = pd.read_csv(work / "results/smoke/claims.csv")
    assert list(table.columns) == CLAIM_COLUMNS
    pcfg = yaml.safe_load((work / "config.yaml").read_text())["presets"]["smoke"]
    ref = pcfg["reference"]
    suffix = f"_h{ref['hidden']}_d{ref['dim']}_s{ref['seed']}"
    expected = [(c, k, m.id) for (c, k), hmms in CLAIM_CHECKS.items() if hmms != "chains"
                for m in plan.reference_models(pcfg, list(hmms))] + [("C7", "readout_tilt", f"chains{suffix}")]
    got = list(zip(table["claim"], table["check"], table["model"], strict=True))
    assert expected and sorted(got) == sorted(expected) and len(set(got)) == len(got)
    for col in ("pass", "pass_untrained", "pass_shuffled", "pass_iid", "discriminates", "counts"):
        assert set(table[col].astype(str)) <= {"True", "False"}, col
    # every check but the training evolution's is measured on both control networks where the preset
    # gives the model control networks (smoke: controls.hmms), the emission checks on the i.i.d.
    # emitter everywhere, and the control networks' own results exist
    with_controls = {m.id for m in plan.control_models(pcfg)}
    assert with_controls == {f"chain2{suffix}", f"fully3{suffix}"}
    for r in table.itertuples(index=False):
        applied = set(str(r.controls).split()) if isinstance(r.controls, str) else set()
        networks = r.model in with_controls and r.check not in ("bifurcation_found", "emergence_coincides")
        want = ({"untrained", "shuffled"} if networks else set()) | ({"iid"} if r.claim == "C1" else set())
        assert applied == want, (r.check, r.model, applied)
    for control in plan.CONTROLS:
        for m in plan.control_models(pcfg):
            assert (work / plan.model_dir(plan.control_preset("smoke", control), m) / "model.pt").is_file()
    assert table.loc[table["check"] == "matched_distance", "value_iid"].notna().all()
    html = (work / "results/smoke/claims.html").read_text()
    assert "<table>" in html and "untrained" in html and "shuffled" in html
    print(f"smoke workflow wall time: {wall:.1f} s")


@pytest.mark.workflow
def test_report_has_every_figure_with_its_caption(smoke_run):
    work, res, _ = smoke_run
    assert res.returncode == 0
    rep = snakemake(work, "--report", "results/smoke/report.html", "--config", "preset=smoke", timeout=600)
    assert rep.returncode == 0, rep.stderr[-2000:]
    html = (work / "results/smoke/report.html").read_text()
    for name in figures.FIGURES:
        assert f"{name}.png" in html, name
        first_line = figures.caption(name).splitlines()[0]
        assert first_line.split(":")[0] in html, name
    assert "claims.html" in html and "claims.csv" in html and "Claims check of preset" in html
    # the groups: main / supplementary / new figures, the training curves with the evaluation tables,
    # the figures' provenance
    for title in [*figures.GROUPS.values(), figures.TRAINING_CATEGORY, "Training curves (figure S10)",
                  "Evaluation tables", "Provenance", "evaluation.html", "provenance.html",
                  "Evaluation tables of preset", "Provenance of every figure of preset"]:
        assert title in html, title
    # the pages themselves: a row per trained model, a provenance row per figure
    page = (work / "results/smoke/report/evaluation.html").read_text()
    assert page.count("<tr><td>chain2_h16_d4_s0</td>") >= 2  # training table and metrics rows
    prov = (work / "results/smoke/report/provenance.html").read_text()
    assert "no provenance recorded" not in prov
    for name in figures.FIGURES:
        assert f"<a href='#{name}'>{name}</a>" in prov, name
    side = io.read_json(work / f"figures/smoke/{figures.TRAINING_CURVES}.png.meta.json")
    assert side["figure"] == figures.TRAINING_CURVES and side["sha256"] == io.file_sha256(
        work / f"figures/smoke/{figures.TRAINING_CURVES}.png")
    read = side["inputs"]
    assert read and all(h == io.file_sha256(work / path) for path, h in read.items())


@pytest.mark.workflow
def test_smoke_rerun_is_a_no_op_and_code_change_reruns_training(smoke_run):
    work, res, _ = smoke_run
    assert res.returncode == 0
    nothing = snakemake(work, "-n", "--config", "preset=smoke")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr
    time.sleep(1.1)
    # Snakemake >= 9.18 compares checksums of newer inputs: a real edit is needed, a touch is not enough
    with open(work / "src/rnnhmm/train.py", "a") as fh:
        fh.write("\n# an edit\n")
    dry = snakemake(work, "-n", "--config", "preset=smoke")
    out = dry.stdout + dry.stderr
    assert re.search(r"^train\s+20\b", out, re.M), out[-2000:]
    assert not re.search(r"^hmm\s+\d", out, re.M)


def test_paper_dry_run_has_the_full_grid(tmp_path, repo):
    work = copy_repo(tmp_path / "repo")
    res = snakemake(work, "-n", "--config", "preset=paper")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-2000:]
    assert re.search(r"^train\s+150$", out, re.M), out[-3000:]
    assert re.search(r"^hmm\s+6$", out, re.M)


def test_reference_dry_run_plans_the_papers_training_of_the_reference_models(tmp_path, config):
    """preset=reference: the six reference models x seeds 0-2 with the paper's data, optimiser, clip,
    epochs and every epoch checkpointed (read back from the planned shell commands)."""
    work = copy_repo(tmp_path / "repo")
    res = snakemake(work, "-n", "-p", "--config", "preset=reference")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-2000:]
    assert re.search(r"^train\s+18$", out, re.M), out[-3000:]
    planned = [json.loads(m) for m in re.findall(r"rnnhmm\.cli train .*?--params '(\{.*?\})'", out)]
    assert len(planned) == 18
    models = sorted((p["model"]["hmm"], p["model"]["seed"]) for p in planned)
    paper_hmms = [h for h in config["hmms"] if "file" not in config["hmms"][h]]  # not the worked example
    assert models == sorted((h, s) for h in paper_hmms for s in (0, 1, 2))
    paper = config["presets"]["paper"]["train"]
    for p in planned:
        t, hmm = p["train"], p["model"]["hmm"]
        assert (p["model"]["hidden"], p["model"]["dim"]) == (150, 100)
        assert t["epochs"] == {"fully3": 1000}.get(hmm, 500) == paper["epochs"][hmm]
        assert (t["batch_size"], t["lr"], t["betas"]) == (4096, 1e-3, [0.9, 0.9])
        assert t["clip"] == (0.3 if hmm in ("fully3", "cyclic4") else 0.9)
        assert t["checkpoint_epochs"] == list(range(1, t["epochs"] + 1))
    data = re.findall(r"rnnhmm\.cli hmm --params '(\{.*?\})'", out)
    assert data and all(json.loads(d)["data"] == {"n_train": 10000, "n_val": 10000, "n_test": 10000} for d in data)


def test_bad_config_stops_before_any_job(tmp_path):
    work = copy_repo(tmp_path / "repo")
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    cfg["presets"]["smoke"]["train"]["blur"] = 0
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    res = snakemake(work, "--cores", "1", "--config", "preset=smoke")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "presets.smoke.train.blur" in out and "> 0" in out
    assert not (work / "results").exists()
