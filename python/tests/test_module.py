"""The Python module against the CLI: the same JSON, keyword arguments named like the flags, and
ValueError with the CLI's message for bad input. Run by ctest (python_module_tests)."""

import json
import os
import subprocess

import pytest

import v4sim

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args):
    """The v4sim binary's stdout (V4SIM_BINARY, set by ctest)."""
    out = subprocess.run([os.environ["V4SIM_BINARY"], *args], check=True, capture_output=True,
                         text=True).stdout
    return out


def test_cost_equals_the_cli_json():
    got = v4sim.cost(model="deepseek-v4-pro", context=["4k", "1m"])
    want = [json.loads(line) for line in cli("cost", "--model", "deepseek-v4-pro", "--context",
                                             "4k,1m", "--format", "json").splitlines()]
    assert got == want
    assert [r["context_tokens"] for r in got] == [4096, 1048576]
    assert got[1]["kv_cache"]["bytes_per_sequence"] > got[0]["kv_cache"]["bytes_per_sequence"]


def test_flags_and_underscored_options():
    prefill = v4sim.cost(model="deepseek-v4-flash", context="128k", phase="prefill",
                         kv_format="bf16", mtp=True)
    assert prefill[0]["phase"] == "prefill"
    assert prefill[0]["kv_cache"]["format"] == "bf16"
    assert prefill[0]["mtp"] is True


def test_compare_predict_optimize_plan():
    c = v4sim.compare(models="deepseek-v3.2,deepseek-v4-pro", contexts="4k,1m")
    assert c == json.loads(cli("compare", "--models", "deepseek-v3.2,deepseek-v4-pro", "--contexts",
                               "4k,1m", "--format", "json"))
    p = v4sim.predict(model="deepseek-v4-flash", system="hgx-h200", context="32k", batch=8,
                      no_tables=True)
    assert p == json.loads(cli("predict", "--model", "deepseek-v4-flash", "--system", "hgx-h200",
                               "--context", "32k", "--batch", "8", "--no-tables", "--format",
                               "json"))
    assert p["feasible"] is True
    o = v4sim.optimize(model="deepseek-v4-flash", system="hgx-h200", context="32k",
                       slo_tpot_ms=100)
    assert isinstance(o, (dict, list))
    demand = os.path.join(SOURCE, "scenarios", "demand-50b-tokens-per-day.yaml")
    plan = v4sim.plan(demand)
    assert plan == json.loads(cli("plan", demand, "--format", "json"))


def test_simulate_equals_the_cli_json():
    s = v4sim.simulate(model="deepseek-v4-flash", system="hgx-h200", rate=5, requests=50,
                       input_tokens="1000-2000", output_tokens=64, seed=3)
    assert s == json.loads(cli("simulate", "--model", "deepseek-v4-flash", "--system", "hgx-h200",
                               "--rate", "5", "--requests", "50", "--input-tokens", "1000-2000",
                               "--output-tokens", "64", "--seed", "3", "--format", "json"))
    assert s["completed"] == 50


def test_bad_input_raises_value_error_with_the_cli_message():
    with pytest.raises(ValueError, match="unknown model 'deepseek-v9'"):
        v4sim.cost(model="deepseek-v9", context="4k")
    with pytest.raises(ValueError, match="context"):
        v4sim.cost(model="deepseek-v4-pro", context="lots")
    with pytest.raises(ValueError):
        v4sim.predict(model="deepseek-v4-pro", system="hgx-h200", context="4k", batch="many")


def test_hugging_face_config_and_its_assumptions():
    path = os.path.join(SOURCE, "models", "hf", "deepseek-v4-flash", "config.json")
    hf = v4sim.cost(model=path, context="1m")
    yaml = v4sim.cost(model="deepseek-v4-flash", context="1m")
    assert hf[0]["kv_cache"] == yaml[0]["kv_cache"]
    assert hf[0]["flops"] == yaml[0]["flops"]
    assert any(a["field"] == "kv_cache.deploy" for a in hf[0]["assumed"])
    p = v4sim.predict(model=path, system="hgx-h200", devices=8, context="4k", batch=16)
    assert {"field", "value", "reason"} <= set(p["assumed"][0])
    assert "assumed" not in v4sim.predict(
        model="deepseek-v4-flash", system="hgx-h200", devices=8, context="4k", batch=16)


def test_report_writes_its_folder(tmp_path):
    out = tmp_path / "report"
    r = v4sim.report("v4-vs-v32-long-context", output=str(out))
    assert r["output"] == str(out)
    assert "report.md" in r["files"] and "report.html" in r["files"]
    assert (out / "report.md").read_text().startswith("#")
