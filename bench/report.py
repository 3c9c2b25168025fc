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

__all__ = [
    "TARGETS",
    "evaluate_targets",
    "ratio_text",
    "ratios",
    "render_markdown",
    "replace_readme_table",
]

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
    (
        "stats_p95",
        "statistics (network and visible, by substance and by month) over 1M alerts: p95 ≤ 150 ms",
    ),
    ("emerging_p95", "emerging substances over 1M alerts: p95 ≤ 300 ms"),
    ("followups_ratio", "secure/bare throughput ≥ 0.7 for follow-up create and list"),
    (
        "events_p95",
        "event after the 201 (long-poll, SSE, webhook on loopback): p95 ≤ 250 ms "
        "(no bare counterpart)",
    ),
    (
        "webhook_fanout",
        "one alert matching 1,000 webhook watch lists delivered to all within 5 s "
        "(no bare counterpart)",
    ),
    (
        "watch_lists_cost",
        "10,000 stored watch lists add ≤ 10 % to single-POST latency (p50; no bare counterpart)",
    ),
    (
        "listeners_flat",
        "500 long-poll/SSE listeners on 2 workers: RSS within 10 %, no thread per listener "
        "(no bare counterpart)",
    ),
)
STATS_OPS = (
    "stats_network_substance",
    "stats_network_month",
    "stats_visible_substance",
    "stats_visible_month",
)
EVENT_LATENCY_OPS = ("event_longpoll", "event_sse", "event_webhook")
THREADS_PER_LISTENER_SEEN = 0.5
"""New threads in a worker beyond this fraction of the listeners it holds: a thread each."""
READ_RATIO_OPS = ("get_by_id", "search_substance", "search_route")


def _rows(results: dict[str, Any], app: str, op: str) -> list[dict[str, Any]]:
    return [row for row in results["rows"] if row["app"] == app and row["op"] == op]


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Secure/bare throughput for every (operation, size) both apps ran: the mean of its rounds'
    ratios (``--rounds``; a round pairs the two apps' runs of that round), with the lowest and
    the highest of them."""
    bare = {
        (row["op"], row["size"], row.get("round", 0)): row
        for row in results["rows"]
        if row["app"] == "bare"
    }
    rounds: dict[tuple[str, int], list[float]] = {}
    for row in results["rows"]:
        other = bare.get((row["op"], row["size"], row.get("round", 0)))
        if row["app"] != "secure" or other is None or not other["throughput"]:
            continue
        rounds.setdefault((row["op"], row["size"]), []).append(
            row["throughput"] / other["throughput"]
        )
    return [
        {
            "op": op,
            "size": size,
            "ratio": sum(each) / len(each),
            "lowest": min(each),
            "highest": max(each),
            "rounds": len(each),
        }
        for (op, size), each in rounds.items()
    ]


def ratio_text(found: dict[str, Any]) -> str:
    """A ratio as the report writes it: with its range when several rounds made it."""
    if found["rounds"] == 1:
        return f"{found['ratio']:.2f}"
    return (
        f"{found['ratio']:.2f} ({found['lowest']:.2f} to {found['highest']:.2f} over "
        f"{found['rounds']} rounds)"
    )


def _verdict(passed: bool | None, measured: str, note: str = "") -> dict[str, Any]:
    return {"passed": passed, "measured": measured, "note": note}


def _ratio_target(results: dict[str, Any], op: str) -> dict[str, Any]:
    found = [r for r in ratios(results) if r["op"] == op]
    if not found:
        return _verdict(None, "not measured")
    worst = min(found, key=lambda r: r["ratio"])
    return _verdict(worst["ratio"] >= 0.6, f"{ratio_text(worst)} at {worst['size']:,} stored")


def _search_target(
    results: dict[str, Any], ops: str | tuple[str, ...], limit_ms: float = 50
) -> dict[str, Any]:
    """The worst p95 of ``ops`` (of any round) at the largest size measured, judged only at 1M
    alerts."""
    names = (ops,) if isinstance(ops, str) else ops
    rows = [row for op in names for row in _rows(results, "secure", op)]
    if not rows:
        return _verdict(None, "not measured")
    size = max(row["size"] for row in rows)
    worst = max((row for row in rows if row["size"] == size), key=lambda r: r["p95_ms"])
    name = "" if isinstance(ops, str) else f" ({worst['op']})"
    measured = f"p95 {worst['p95_ms']:.1f} ms{name} at {size:,} stored"
    if size < TARGET_SEARCH_SIZE:
        return _verdict(None, measured, "indicative: the target is at 1M stored alerts")
    return _verdict(worst["p95_ms"] <= limit_ms, measured)


def _followups_target(results: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in ratios(results) if r["op"] in ("followup_create", "followups_list")]
    if not found:
        return _verdict(None, "not measured")
    text = ", ".join(f"{r['op']} {ratio_text(r)}" for r in found)
    return _verdict(all(r["ratio"] >= 0.7 for r in found), text)


def _event_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The feed's targets; none has a bare counterpart (the baseline has no events)."""
    verdicts: dict[str, dict[str, Any]] = {}
    latency = [row for op in EVENT_LATENCY_OPS for row in _rows(results, "secure", op)]
    verdicts["events_p95"] = (
        _verdict(
            all(row["p95_ms"] <= 250 and not row["errors"] for row in latency),
            ", ".join(f"{row['op'][6:]} {row['p95_ms']:.0f} ms" for row in latency),
        )
        if latency
        else _verdict(None, "not measured")
    )
    fanout = _rows(results, "secure", "webhook_fanout")
    if fanout:
        done = fanout[-1].get("all_delivered_s")
        verdicts["webhook_fanout"] = _verdict(
            done is not None and done <= 5,
            f"all {fanout[-1]['requests']:,} in {done:.2f} s"
            if done is not None
            else f"{fanout[-1]['requests']:,} of {fanout[-1].get('lists', 1000):,} in 60 s",
        )
    else:
        verdicts["webhook_fanout"] = _verdict(None, "not measured")
    none, many = (
        _rows(results, "secure", "post_single_lists_0"),
        _rows(results, "secure", "post_single_lists_n"),
    )
    if none and many:
        added = many[-1]["p50_ms"] / none[-1]["p50_ms"] - 1
        added_p95 = many[-1]["p95_ms"] / none[-1]["p95_ms"] - 1
        verdicts["watch_lists_cost"] = _verdict(
            added <= 0.10, f"p50 {added * 100:+.0f} %, p95 {added_p95 * 100:+.0f} %"
        )
    else:
        verdicts["watch_lists_cost"] = _verdict(None, "not measured")
    verdicts["listeners_flat"] = _listeners_target(results)
    return verdicts


def _listeners_target(results: dict[str, Any]) -> dict[str, Any]:
    runs = results.get("listeners", [])
    if not runs:
        return _verdict(None, "not measured")
    run = runs[-1]
    workers = run["workers"].values()
    growth = max(w["rss_max_during_mib"] / w["rss_before_mib"] - 1 for w in workers)
    threads = max(w["threads_max_during"] - w["threads_before"] for w in workers)
    per_worker = run["listeners"] / max(len(run["workers"]), 1)
    passed = growth <= 0.10 and threads <= THREADS_PER_LISTENER_SEEN * per_worker
    return _verdict(
        passed and run["woken"] == run["listeners"],
        f"RSS {growth * 100:+.1f} %, threads +{threads} per worker at most, "
        f"{run['woken']}/{run['listeners']} listeners woken",
    )


def _capacity_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [r for r in ratios(results) if r["op"] in READ_RATIO_OPS]
    worst = min(found, key=lambda r: r["ratio"]) if found else None
    verdicts = {
        "reads_ratio": _verdict(
            worst["ratio"] >= 0.8,
            f"lowest {worst['op']} at {worst['size']:,} stored: {ratio_text(worst)}",
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


def _push_verdict(push: dict[str, Any], batches: list[dict[str, Any]]) -> dict[str, Any]:
    """The push against the batch endpoint: the mean of its runs just before and just after the
    push (the one before alone when the run has no ``batch_after_push``)."""
    rates = [row["throughput"] for row in batches]
    batch = sum(rates) / len(rates)
    ratio = push["throughput"] / batch if batch else 0.0
    around = f": mean of {' and '.join(f'{rate:,.0f}' for rate in rates)}" if len(rates) > 1 else ""
    measured = (
        f"{ratio:.2f} ({push['throughput']:,.0f} vs {batch:,.0f} alerts/s{around}; "
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
        "stats_p95": _search_target(results, STATS_OPS, 150),
        "emerging_p95": _search_target(results, "emerging", 300),
        "followups_ratio": _followups_target(results),
        **_event_targets(results),
    }
    batch = _rows(results, "secure", "batch")
    verdicts["batch_ingest"] = (
        _verdict(batch[-1]["throughput"] >= 5_000, f"{batch[-1]['throughput']:,.0f} alerts/s")
        if batch
        else _verdict(None, "not measured")
    )
    push = _rows(results, "secure", "exchange_push")
    after = _rows(results, "secure", "batch_after_push")
    verdicts["exchange_push_ratio"] = (
        _push_verdict(push[-1], [batch[-1], *after[-1:]])
        if push and batch
        else _verdict(None, "not measured")
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
        f"{config['duration_s']:.0f} s per operation after {config['warmup_s']:.0f} s warm-up"
        f"{_rounds_said(config)}.",
        "",
        "| app | operation | stored | clients | requests | errors | throughput | p50 ms | p95 ms "
        "| p99 ms "
        "| server CPU s/1k | DB CPU s/1k | driver CPU % | peak RSS/worker MiB |",
        "| --- | --- |" + " ---: |" * 12,
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['app']} | {_op_name(row)} | {row['size']:,} | {row.get('concurrency', '-')} "
            f"| {row['requests']:,} "
            f"| {row['errors']:,} | {_num(row['throughput'], 0)} {row['unit']}/s "
            f"| {_num(row['p50_ms'])} | {_num(row['p95_ms'])} | {_num(row['p99_ms'])} "
            f"| {_num(row['cpu_s_per_1k'], 2)} | {_num(row['db_cpu_s_per_1k'], 2)} "
            f"| {_num(row['driver_cpu_pct'], 0)} | {_num(row['peak_rss_mib'], 0)} |"
        )
    found = ratios(results)
    if found:
        lines += ["", "| operation | stored | secure/bare throughput |", "| --- | ---: | ---: |"]
        lines += [f"| {r['op']} | {r['size']:,} | {ratio_text(r)} |" for r in found]
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
    lines += _listeners_table(results)
    lines += ["", "| target | measured | verdict |", "| --- | --- | --- |"]
    for key, description in TARGETS:
        verdict = results["targets"][key]
        note = f" ({verdict['note']})" if verdict["note"] else ""
        lines.append(
            f"| {description} | {verdict['measured']}{note} | {_mark(verdict['passed'])} |"
        )
    return "\n".join(lines) + "\n"


def _rounds_said(config: dict[str, Any]) -> str:
    rounds = config.get("rounds", 1)
    if rounds == 1:
        return ""
    return (
        f"; the reads (GET by id, searches) in {rounds} rounds, the apps taking turns to go "
        "first, their ratio the mean of the rounds'"
    )


def _op_name(row: dict[str, Any]) -> str:
    """The operation, and which of its rounds from the second on (the first is named plainly,
    as an operation that runs once is)."""
    turn = row.get("round", 0)
    return f"{row['op']} (round {turn + 1})" if turn else row["op"]


def _listeners_table(results: dict[str, Any]) -> list[str]:
    """Each worker's memory and threads around the listeners' run."""
    lines = []
    for run in results.get("listeners", []):
        lines += [
            "",
            f"Listeners (secure only): {run['listeners']} (half long-poll, half SSE) held "
            f"{run['held_s']:.0f} s, {run['woken']} woken by the alerts posted meanwhile.",
            "",
            "| worker | RSS before → max while held → after (MiB) | threads before → max → after |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| {pid} | {w['rss_before_mib']:.0f} → {w['rss_max_during_mib']:.0f} → "
            f"{w['rss_after_mib']:.0f} | {w['threads_before']} → {w['threads_max_during']} → "
            f"{w['threads_after']} |"
            for pid, w in run["workers"].items()
        ]
    return lines


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
