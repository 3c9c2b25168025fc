"""The benchmark's results as JSON and as a Markdown table, with the issue's targets checked.

Every row is one operation of one app at one stored size. Throughput is in the operation's unit
(requests/s, or alerts/s for batch ingest, or entries/s for the audit verification); CPU is
the server's whole process tree per 1,000 units, with the database server's CPU alongside (it
includes anything else that database server did meanwhile) and the load driver's own CPU, which
competes with the server on a small machine.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["TARGETS", "evaluate_targets", "ratios", "render_markdown", "replace_readme_table"]

TARGET_MEMORY_RUN_S = 600
TARGET_SEARCH_SIZE = 1_000_000
TARGET_AUDIT_ENTRIES = 1_000_000

# (key, description) of the targets, in the order of the issue.
TARGETS: tuple[tuple[str, str], ...] = (
    ("post_single_ratio", "secure/bare throughput ≥ 0.6 for single POST"),
    ("get_by_id_ratio", "secure/bare throughput ≥ 0.6 for GET by id"),
    ("batch_ingest", "batch ingest ≥ 5,000 alerts/s"),
    ("exchange_push_ratio", "`exchange push` ≥ 0.9 of the batch endpoint's alerts/s (same run)"),
    ("search_substance_p95", "search by substance over 1M alerts: p95 ≤ 50 ms (page of 50)"),
    ("search_route_p95", "search by route over 1M alerts: p95 ≤ 50 ms (page of 50)"),
    ("audit_verify", "`audit verify` ≥ 100,000 entries/s (over 1M entries)"),
    ("memory_flat", "worker memory flat (± 10 %) across a 10-minute run"),
    ("reads_ratio", "secure/bare throughput ≥ 0.8 for GET by id and both searches"),
    ("burst_balance", "each of 2 workers serves 40 to 60 % of a burst-connected run's requests"),
    ("worker_scaling", "2 workers give ≥ 1.7x one worker's GET-by-id throughput"),
)
READ_RATIO_OPS = ("get_by_id", "search_substance", "search_route")


def _rows(results: dict[str, Any], app: str, op: str) -> list[dict[str, Any]]:
    return [row for row in results["rows"] if row["app"] == app and row["op"] == op]


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Secure/bare throughput for every (operation, size) both apps ran."""
    bare = {(row["op"], row["size"]): row for row in results["rows"] if row["app"] == "bare"}
    out = []
    for row in results["rows"]:
        other = bare.get((row["op"], row["size"]))
        if row["app"] != "secure" or other is None or not other["throughput"]:
            continue
        out.append(
            {
                "op": row["op"],
                "size": row["size"],
                "secure": row["throughput"],
                "bare": other["throughput"],
                "ratio": row["throughput"] / other["throughput"],
            }
        )
    return out


def _verdict(passed: bool | None, measured: str, note: str = "") -> dict[str, Any]:
    return {"passed": passed, "measured": measured, "note": note}


def _ratio_target(results: dict[str, Any], op: str) -> dict[str, Any]:
    found = [r for r in ratios(results) if r["op"] == op]
    if not found:
        return _verdict(None, "not measured")
    worst = min(found, key=lambda r: r["ratio"])
    return _verdict(worst["ratio"] >= 0.6, f"{worst['ratio']:.2f} (at {worst['size']:,} stored)")


def _search_target(results: dict[str, Any], op: str) -> dict[str, Any]:
    rows = _rows(results, "secure", op)
    if not rows:
        return _verdict(None, "not measured")
    largest = max(rows, key=lambda r: r["size"])
    measured = f"p95 {largest['p95_ms']:.1f} ms at {largest['size']:,} stored"
    if largest["size"] < TARGET_SEARCH_SIZE:
        return _verdict(None, measured, "indicative: the target is at 1M stored alerts")
    return _verdict(largest["p95_ms"] <= 50, measured)


def _capacity_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [r for r in ratios(results) if r["op"] in READ_RATIO_OPS]
    worst = min(found, key=lambda r: r["ratio"]) if found else None
    verdicts = {
        "reads_ratio": _verdict(
            worst["ratio"] >= 0.8, f"lowest {worst['ratio']:.2f} ({worst['op']})"
        )
        if worst is not None
        else _verdict(None, "not measured")
    }
    shares = [
        w["request_share"]
        for row in _rows(results, "secure", "burst")
        for w in row.get("workers", [])
        if "request_share" in w
    ]
    verdicts["burst_balance"] = (
        _verdict(
            len(shares) == 2 and all(0.4 <= share <= 0.6 for share in shares),
            " / ".join(f"{share * 100:.0f} %" for share in shares),
        )
        if shares
        else _verdict(None, "not measured")
    )
    scaling = [row for row in _rows(results, "secure", "scaling") if row.get("speedup")]
    verdicts["worker_scaling"] = (
        _verdict(scaling[-1]["speedup"] >= 1.7, f"{scaling[-1]['speedup']:.2f}x")
        if scaling
        else _verdict(None, "not measured")
    )
    return verdicts


def _push_verdict(push: dict[str, Any], batch: dict[str, Any]) -> dict[str, Any]:
    ratio = push["throughput"] / batch["throughput"] if batch["throughput"] else 0.0
    measured = (
        f"{ratio:.2f} ({push['throughput']:,.0f} vs {batch['throughput']:,.0f} alerts/s, "
        f"{push['units']:,} alerts pushed)"
    )
    return _verdict(ratio >= 0.9, measured)


def evaluate_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target's verdict: passed True/False, or None when this run cannot decide it."""
    verdicts = {
        "post_single_ratio": _ratio_target(results, "post_single"),
        "get_by_id_ratio": _ratio_target(results, "get_by_id"),
        "search_substance_p95": _search_target(results, "search_substance"),
        "search_route_p95": _search_target(results, "search_route"),
    }
    batch = _rows(results, "secure", "batch")
    verdicts["batch_ingest"] = (
        _verdict(batch[-1]["throughput"] >= 5_000, f"{batch[-1]['throughput']:,.0f} alerts/s")
        if batch
        else _verdict(None, "not measured")
    )
    push = _rows(results, "secure", "exchange_push")
    verdicts["exchange_push_ratio"] = (
        _push_verdict(push[-1], batch[-1]) if push and batch else _verdict(None, "not measured")
    )
    audit = _rows(results, "secure", "audit_verify")
    if audit:
        row = audit[-1]
        measured = f"{row['throughput']:,.0f} entries/s over {row['units']:,} entries"
        enough = row["units"] >= TARGET_AUDIT_ENTRIES
        verdicts["audit_verify"] = _verdict(
            row["throughput"] >= 100_000 if enough else None,
            measured,
            "" if enough else "indicative: the target is over 1M entries",
        )
    else:
        verdicts["audit_verify"] = _verdict(None, "not measured")
    verdicts.update(_capacity_targets(results))
    memory = results.get("memory", {}).get("secure")
    if memory and memory.get("max_abs_drift_pct") is not None:
        drift = memory["max_abs_drift_pct"]
        long_enough = memory["duration_s"] >= TARGET_MEMORY_RUN_S
        verdicts["memory_flat"] = _verdict(
            drift <= 10 if long_enough else None,
            f"largest drift {drift:.1f} % over {memory['duration_s']:.0f} s",
            "" if long_enough else "indicative: the target is over a 10-minute run",
        )
    else:
        verdicts["memory_flat"] = _verdict(None, "not measured")
    return verdicts


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _mark(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def render_markdown(results: dict[str, Any]) -> str:
    machine, config = results["machine"], results["config"]
    lines = [
        "# Benchmark: secure exchange vs bare baseline",
        "",
        f"Run {results['started_at']} on commit `{results['commit']}`. "
        f"Machine: {machine['cores_logical']} logical cores ({machine['cpu_model']}; one core "
        f"turns a Python loop {machine['core_loop_turns_per_s'] / 1e6:.1f} million times a "
        f"second, two busy processes get {machine['parallel_speedup_2_procs']:.1f}x the work of "
        "one), "
        f"{machine['memory_gib']:.0f} GiB RAM, Python {machine['python']}; load average "
        f"{machine['load_average_start'][0]:.1f} at the start, "
        f"{machine['load_average_end'][0]:.1f} at the end (anything else running skews it). "
        f"Database: {config['db']} {results.get('db_version', '')}; "
        f"{config['workers']} uvicorn workers per app; load from one separate process (asyncio + "
        f"httpx) on the same machine: {config['concurrency']} concurrent clients, "
        f"{config['search_concurrency']} for searches, {config['batch_concurrency']} batches in "
        "flight; "
        f"{config['duration_s']:.0f} s per operation after {config['warmup_s']:.0f} s warm-up.",
        "",
        "| app | operation | stored | clients | requests | errors | throughput | p50 ms | p95 ms "
        "| p99 ms "
        "| server CPU s/1k | DB CPU s/1k | driver CPU % | peak RSS/worker MiB |",
        "| --- | --- |" + " ---: |" * 12,
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['app']} | {row['op']} | {row['size']:,} | {row.get('concurrency', '-')} "
            f"| {row['requests']:,} "
            f"| {row['errors']:,} | {_num(row['throughput'], 0)} {row['unit']}/s "
            f"| {_num(row['p50_ms'])} | {_num(row['p95_ms'])} | {_num(row['p99_ms'])} "
            f"| {_num(row['cpu_s_per_1k'], 2)} | {_num(row['db_cpu_s_per_1k'], 2)} "
            f"| {_num(row['driver_cpu_pct'], 0)} | {_num(row['peak_rss_mib'], 0)} |"
        )
    found = ratios(results)
    if found:
        lines += ["", "| operation | stored | secure/bare throughput |", "| --- | ---: | ---: |"]
        lines += [f"| {r['op']} | {r['size']:,} | {r['ratio']:.2f} |" for r in found]
    memory = results.get("memory", {})
    if memory:
        lines += [
            "",
            "| app | mixed-load run | worker RSS start → end (MiB) | max drift |",
            "| --- | ---: | --- | ---: |",
        ]
        for app, summary in memory.items():
            workers = ", ".join(
                f"{w['baseline_mib']:.0f} → {w['end_mib']:.0f}"
                for w in summary["workers"].values()
                if w.get("drift_pct") is not None
            )
            lines.append(
                f"| {app} | {summary['duration_s']:.0f} s | {workers} "
                f"| {_num(summary['max_abs_drift_pct'])} % |"
            )
    lines += _workers_table(results)
    lines += ["", "| target | measured | verdict |", "| --- | --- | --- |"]
    for key, description in TARGETS:
        verdict = results["targets"][key]
        note = f" ({verdict['note']})" if verdict["note"] else ""
        lines.append(
            f"| {description} | {verdict['measured']}{note} | {_mark(verdict['passed'])} |"
        )
    return "\n".join(lines) + "\n"


def _workers_table(results: dict[str, Any]) -> list[str]:
    """How the burst-connected runs (and the soak) spread over the workers."""
    runs = [
        (row["app"], row["op"], row["throughput"], row.get("speedup"), row["workers"])
        for row in results["rows"]
        if row["op"] in ("burst", "scaling")
    ]
    runs += [
        (soak["app"], "soak", soak["throughput"], None, soak["workers"])
        for soak in results.get("soak", [])
    ]
    if not runs:
        return []
    lines = [
        "",
        "| app | run | req/s | vs one worker | requests per worker | CPU per worker |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for app, op, throughput, speedup, workers in runs:
        known = [w for w in workers if "request_share" in w]
        requests = " / ".join(f"{w['request_share'] * 100:.0f} %" for w in known)
        cpu = " / ".join(f"{w['cpu_share'] * 100:.0f} %" for w in known)
        lines.append(
            f"| {app} | {op} | {_num(throughput, 0)} "
            f"| {f'{speedup:.2f}x' if speedup else '-'} | {requests} | {cpu} |"
        )
    for soak in results.get("soak", []):
        verified = soak.get("audit_verify", {}).get("ok")
        drifts = [m["drift_pct"] for m in soak["memory"].values() if m.get("drift_pct") is not None]
        lines += [
            "",
            f"Soak ({soak['app']}): {soak['clients']} clients for {soak['duration_s']:.0f} s, "
            f"{soak['requests']:,} requests, {soak['errors']} errors, p50 "
            f"{soak['latency_ms']['p50']:.1f} ms, p95 {soak['latency_ms']['p95']:.1f} ms; "
            f"{soak['stored']:,} of {soak['acknowledged']:,} acknowledged alerts stored; "
            f"audit verified: {verified}; worker memory drift "
            f"{', '.join(f'{d:+.1f} %' for d in drifts) or '-'}.",
        ]
    return lines


README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def replace_readme_table(readme: str, markdown: str) -> str:
    """The README with the table between its bench markers replaced by ``markdown``'s body."""
    start, end = readme.index(README_START), readme.index(README_END)
    body = markdown.split("\n", 2)[2].strip()  # without the title line and the blank after it
    return f"{readme[: start + len(README_START)]}\n{body}\n{readme[end:]}"
