#!/usr/bin/env python3
"""Static checks of the Grafana dashboards and their provisioning files.

Usage: grafana/tests/dashboard_lint.py [DASHBOARD.json|DIR ...]
Without arguments it checks grafana/dashboards/*.json and
grafana/provisioning/**/*.yml of this repository.

Per dashboard: valid JSON with uid (= file name) and title; a template
variable `datasource` of type datasource (prometheus); every variable a query
uses is defined; panel ids unique integers; panels do not overlap; and every
panel (rows excepted: they hold no query) uses ${datasource}, has a unit
(fieldConfig.defaults.unit) and targets that each use ${datasource} and have
an expr; annotations from Prometheus use ${datasource} and have an expr.

Prints one line per check ("ok - ..." or "FAIL - ...: why") and, last,
"N passed, M failed"; exits 1 if any check failed.
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DS_UIDS = ("${datasource}", "$datasource")
BUILTIN_VARS = re.compile(r"^__")
VAR_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems):
        """Records one check; `problems` is a list of strings (empty = ok)."""
        if problems:
            self.failed += 1
            print(f"FAIL - {name}")
            for p in problems:
                print(f"    {p}")
        else:
            self.passed += 1
            print(f"ok - {name}")


def all_panels(panels):
    """Panels in layout order, including those nested in collapsed rows."""
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def uses_ds_variable(ds):
    if isinstance(ds, str):
        return ds in DS_UIDS
    return isinstance(ds, dict) and ds.get("uid") in DS_UIDS and ds.get("type", "prometheus") == "prometheus"


def referenced_vars(text):
    for m in VAR_REF.finditer(text or ""):
        name = m.group(1) or m.group(2) or m.group(3)
        if not BUILTIN_VARS.match(name):
            yield name


def lint_dashboard(path, res, seen_uids):
    name = os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        res.check(f"{name}: valid JSON", [str(e)])
        return
    res.check(f"{name}: valid JSON", [])

    problems = []
    uid = d.get("uid")
    if not uid or not d.get("title"):
        problems.append("uid and title are required")
    elif uid != os.path.splitext(os.path.basename(path))[0]:
        problems.append(f"uid {uid!r} differs from the file name")
    elif uid in seen_uids:
        problems.append(f"uid {uid!r} also used by {seen_uids[uid]}")
    else:
        seen_uids[uid] = name
    if not isinstance(d.get("panels"), list) or not d["panels"]:
        problems.append("no panels")
    res.check(f"{name}: uid and title", problems)

    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds_var = variables.get("datasource")
    problems = []
    if not ds_var:
        problems.append("no template variable named 'datasource'")
    elif ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        problems.append("variable 'datasource' must have type datasource and query prometheus")
    for v in variables.values():
        if v.get("type") == "query" and not uses_ds_variable(v.get("datasource")):
            problems.append(f"variable {v.get('name')!r} does not query ${{datasource}}")
    res.check(f"{name}: datasource variable", problems)

    panels = list(all_panels(d.get("panels", [])))
    problems = []
    ids = {}
    for p in panels:
        pid = p.get("id")
        if not isinstance(pid, int):
            problems.append(f"panel {p.get('title')!r} has no integer id")
        elif pid in ids:
            problems.append(f"id {pid} used by {ids[pid]!r} and {p.get('title')!r}")
        else:
            ids[pid] = p.get("title")
    res.check(f"{name}: unique panel ids", problems)

    problems = []
    boxes = []
    for p in panels:
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")):
            problems.append(f"panel {p.get('title')!r} has no complete gridPos")
            continue
        if g["x"] < 0 or g["w"] <= 0 or g["x"] + g["w"] > 24:
            problems.append(f"panel {p.get('title')!r} is outside the 24-column grid")
        for other, og in boxes:
            if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"]
                    and g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                problems.append(f"panels {other!r} and {p.get('title')!r} overlap")
        boxes.append((p.get("title"), g))
    res.check(f"{name}: layout", problems)

    problems = []
    for p in panels:
        title = p.get("title") or f"id {p.get('id')}"
        if p.get("type") == "row":
            if p.get("targets"):
                problems.append(f"row {title!r} has targets")
            continue
        if not uses_ds_variable(p.get("datasource")):
            problems.append(f"panel {title!r}: datasource is not ${{datasource}}")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append(f"panel {title!r}: fieldConfig.defaults.unit is not set")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r}: no targets")
        refids = set()
        for t in targets:
            if not uses_ds_variable(t.get("datasource")):
                problems.append(f"panel {title!r} target {t.get('refId')}: datasource is not ${{datasource}}")
            if not (t.get("expr") or "").strip():
                problems.append(f"panel {title!r} target {t.get('refId')}: no expr")
            if t.get("refId") in refids or not t.get("refId"):
                problems.append(f"panel {title!r}: missing or repeated refId {t.get('refId')!r}")
            refids.add(t.get("refId"))
        if p.get("repeat") and p["repeat"] not in variables:
            problems.append(f"panel {title!r} repeats over undefined variable {p['repeat']!r}")
    res.check(f"{name}: panels use ${{datasource}}, have a unit and exprs", problems)

    problems = []
    for a in d.get("annotations", {}).get("list", []):
        if a.get("builtIn"):
            continue
        expr = (a.get("target") or {}).get("expr") or a.get("expr")
        if not uses_ds_variable(a.get("datasource")):
            problems.append(f"annotation {a.get('name')!r}: datasource is not ${{datasource}}")
        if not (expr or "").strip():
            problems.append(f"annotation {a.get('name')!r}: no expr")
        if a.get("expr") and (a.get("target") or {}).get("expr") and a["expr"] != a["target"]["expr"]:
            problems.append(f"annotation {a.get('name')!r}: expr and target.expr differ")
    res.check(f"{name}: annotations", problems)

    problems = []
    texts = [(f"panel {p.get('title')!r}", t.get("expr")) for p in panels for t in p.get("targets") or []]
    texts += [(f"annotation {a.get('name')!r}", (a.get("target") or {}).get("expr") or a.get("expr"))
              for a in d.get("annotations", {}).get("list", [])]
    texts += [(f"variable {v.get('name')!r}", v.get("definition")) for v in variables.values()]
    for where, text in texts:
        for var in referenced_vars(text):
            if var not in variables:
                problems.append(f"{where} uses undefined variable ${var}")
    res.check(f"{name}: variables used are defined", problems)


def lint_provisioning(res):
    try:
        import yaml
    except ImportError:
        res.check("grafana/provisioning: PyYAML available", ["python3-yaml is not installed"])
        return
    path = os.path.join(ROOT, "grafana/provisioning/datasources/prometheus.yml")
    problems = []
    try:
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        sources = doc.get("datasources") or []
        if doc.get("apiVersion") != 1 or not sources:
            problems.append("needs apiVersion: 1 and a datasources list")
        if not any(s.get("type") == "prometheus" and s.get("url") for s in sources):
            problems.append("no prometheus datasource with a url")
    except (OSError, yaml.YAMLError, AttributeError) as e:
        problems.append(str(e))
    res.check("grafana/provisioning/datasources/prometheus.yml", problems)

    path = os.path.join(ROOT, "grafana/provisioning/dashboards/danmu.yml")
    problems = []
    try:
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        providers = doc.get("providers") or []
        if doc.get("apiVersion") != 1 or not providers:
            problems.append("needs apiVersion: 1 and a providers list")
        for p in providers:
            if p.get("type") != "file" or not (p.get("options") or {}).get("path"):
                problems.append(f"provider {p.get('name')!r} must be type file with options.path")
    except (OSError, yaml.YAMLError, AttributeError) as e:
        problems.append(str(e))
    res.check("grafana/provisioning/dashboards/danmu.yml", problems)


def main(argv):
    paths = []
    for arg in argv or [os.path.join(ROOT, "grafana/dashboards")]:
        if os.path.isdir(arg):
            paths += sorted(glob.glob(os.path.join(arg, "*.json")))
        else:
            paths.append(arg)
    res = Results()
    if not paths:
        res.check("dashboards found", ["no *.json dashboards"])
    seen = {}
    for p in paths:
        lint_dashboard(os.path.abspath(p), res, seen)
    if not argv:
        lint_provisioning(res)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
