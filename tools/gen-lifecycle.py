#!/usr/bin/python3
"""gen-lifecycle.py — compile a spec/<name>.rl state chart into C and a picture.

Reads one Ragel state chart written to the conventions in spec/sandbox.rl and
writes:
  <gen>/lifecycle/<name>.h    enums of states, events and actions
  <gen>/lifecycle/<name>.c    Ragel's compiled machine behind a step()
                              function, name tables, and the model table
  <docs>/<name>.svg           Ragel's Graphviz output with state names

The C machine comes from ragel; this script only reads the chart's names (and,
independently, its transition list for the model-based tests) and checks the
conventions: every state but `absent` is marked with >~in_<state>, every
action transition enters a transient state or loops, transient states are left
only by Done/Failed.  Output is deterministic so CI can diff it.

usage: gen-lifecycle.py SPEC GEN_DIR DOCS_DIR
"""
import os
import re
import subprocess
import sys
import tempfile


def fail(spec, msg):
    sys.exit(f"{spec}: {msg}")


def parse(spec):
    text = open(spec).read()
    m = re.search(r"%%\{(.*)\}%%", text, re.S)
    if not m:
        fail(spec, "no %%{ ... }%% block")
    body = re.sub(r"#[^\n]*", "", m.group(1))
    machine = re.search(r"machine\s+(\w+)\s*;", body).group(1)
    events = {n: int(v) for n, v in re.findall(r"\b([A-Z]\w*)\s*=\s*(\d+)\s*;", body)}
    if sorted(events.values()) != list(range(1, len(events) + 1)):
        fail(spec, "events must be numbered 1..N without gaps")
    actions, entries = [], {}
    for name, kind, arg in re.findall(r"action\s+(\w+)\s*\{\s*(ACT|TO)\((\w+)\);\s*\}", body):
        if kind == "ACT":
            if name != arg:
                fail(spec, f"action {name} must say ACT({name})")
            actions.append(name)
        else:
            if name != "in_" + arg:
                fail(spec, f"action {name} must be named in_{arg}")
            entries[arg] = name
    chart = re.search(r"main\s*:=\s*\((.*)\)\s*;", body, re.S)
    if not chart:
        fail(spec, "no `main := ( ... );` chart")
    states, trans = [], []
    for label, alts, marker in re.findall(
            r"(\w+)\s*:\s*\(([^()]*)\)\s*(>~\s*\w+)?\s*,?", chart.group(1)):
        if label == "start":     # Ragel's required name for the initial state
            label = "absent"
        states.append(label)
        if label == "absent":
            if marker:
                fail(spec, "absent must not have an entry marker")
        elif not marker or marker.replace(">~", "").strip() != "in_" + label:
            fail(spec, f"state {label} must be marked >~in_{label}")
        if alts.strip() == "zlen":     # a final state: no way out
            continue
        for alt in alts.split("|"):
            am = re.fullmatch(r"\s*(\w+)\s*(?:@\s*(\w+)\s*)?->\s*(\w+)\s*", alt)
            if not am:
                fail(spec, f"cannot read transition {alt.strip()!r} in state {label}")
            ev, act, to = am.groups()
            trans.append((label, ev, act, to))
    if not states or states[0] != "absent":
        fail(spec, "the first state must be `start`")
    for s in states[1:]:
        if s not in entries:
            fail(spec, f"state {s} has no `action in_{s} {{ TO({s}); }}`")
    for (f, ev, act, to) in trans:
        if ev not in events:
            fail(spec, f"undeclared event {ev}")
        if act and act not in actions:
            fail(spec, f"undeclared action {act}")
        if to not in states or to == "absent":
            fail(spec, f"bad target {to}")
    for need in ("Done", "Failed"):
        if need not in events:
            fail(spec, f"every chart needs the outcome event {need}")
    outs = {s: [t for t in trans if t[0] == s] for s in states}
    transient = {s for s in states if outs[s] and {t[1] for t in outs[s]} == {"Done", "Failed"}}
    for (f, ev, act, to) in trans:
        if ev in ("Done", "Failed"):
            if f not in transient or act:
                fail(spec, f"{ev} may only leave a transient state, without action ({f})")
        elif act and not (to in transient or to == f):
            fail(spec, f"{f} --{ev}/{act}--> {to}: an action must enter a transient state or loop")
        elif not act and to in transient:
            fail(spec, f"{f} --{ev}--> {to}: a transient state is entered only by an action")
    terminal = {s for s in states if s != "absent" and not outs[s]}   # final: `zlen`
    return dict(machine=machine, events=events, actions=actions, states=states,
                trans=trans, transient=transient, terminal=terminal)


def c_names(spec):
    up = spec["machine"].upper()
    S = {s: f"{up}_S_{s.upper()}" for s in spec["states"]}
    E = {e: f"{up}_E_{e.upper()}" for e in spec["events"]}
    A = {a: f"{up}_A_{a.upper()}" for a in spec["actions"]}
    return up, S, E, A


def write_header(spec, path):
    name = spec["machine"]
    up, S, E, A = c_names(spec)
    ev_sorted = sorted(spec["events"], key=spec["events"].get)
    lines = [f"/* gen/lifecycle/{name}.h — GENERATED from spec/{name}.rl by tools/gen-lifecycle.py; do not edit. */",
             f"#ifndef WR_GEN_LIFECYCLE_{up}_H", f"#define WR_GEN_LIFECYCLE_{up}_H", "",
             '#include "core/lifecycle.h"', "",
             f"enum {name}_state {{"]
    lines += [f"\t{S[s]} = {i}," for i, s in enumerate(spec["states"])]
    lines += [f"\t{up}_N_STATES = {len(spec['states'])}", "};", "",
              f"enum {name}_event {{", f"\t{up}_E_NONE = 0,"]
    lines += [f"\t{E[e]} = {spec['events'][e]}," for e in ev_sorted]
    lines += [f"\t{up}_N_EVENTS = {len(ev_sorted) + 1}", "};", "", f"enum {name}_action {{"]
    lines += [f"\t{A[a]} = {i}," for i, a in enumerate(spec["actions"])]
    lines += [f"\t{up}_N_ACTIONS = {len(spec['actions'])}", "};", "",
              f"extern const struct wr_lifecycle wr_lifecycle_{name};", "", "#endif", ""]
    open(path, "w").write("\n".join(lines))


def write_source(spec, spec_path, path, tmp):
    name = spec["machine"]
    up, S, E, A = c_names(spec)
    ev_sorted = sorted(spec["events"], key=spec["events"].get)
    defs = [f"#define ACT_{a} {A[a]}" for a in spec["actions"]]
    defs += [f"#define TO_{s} {S[s]}" for s in spec["states"][1:]]
    host = f"""
#include <stdbool.h>
#include "lifecycle/{name}.h"

#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-variable"
#define ACT(n) (act_ = ACT_##n)
#define TO(n) (to_ = TO_##n)
{chr(10).join(defs)}

%%{{
	machine {name};
	include {name} "{os.path.abspath(spec_path)}";
	write data;
}}%%

/* Run Ragel's machine from Ragel state `cs` over one event symbol. */
static int run(int cs, int event, int *act, int *to)
{{
	unsigned char sym = (unsigned char)event;
	const unsigned char *p = &sym, *pe = p + 1;
	int act_ = WR_LC_NO_ACTION, to_ = -1;
	%% write exec;
	*act = act_;
	*to = to_;
	return cs;
}}

/* Filled by wr_lc_step() on first use (src/core/lifecycle.c). */
static int cs_of[{up}_N_STATES] = {{ -1 }};
"""
    rl = os.path.join(tmp, f"{name}.rl")
    open(rl, "w").write(host)
    out = os.path.join(tmp, f"{name}.c")
    subprocess.run(["ragel", "-C", "-T0", "-L", rl, "-o", out], check=True)
    machine_c = re.sub(r"/\* #line [^*]*\*/\n", "", open(out).read())
    tail = [f"static const char *const state_names[] = {{" + ", ".join(f'"{s}"' for s in spec["states"]) + "};",
            "static const char *const event_names[] = {\"(none)\", " + ", ".join(f'"{e}"' for e in ev_sorted) + "};",
            "static const char *const action_names[] = {" + ", ".join(f'"{a}"' for a in spec["actions"]) + "};",
            "static const bool transient[] = {" + ", ".join("true" if s in spec["transient"] else "false" for s in spec["states"]) + "};",
            "static const bool terminal[] = {" + ", ".join("true" if s in spec["terminal"] else "false" for s in spec["states"]) + "};",
            "",
            "/* The chart as the generator read it, independently of Ragel. */",
            "static const struct wr_transition model[] = {"]
    for (f, ev, act, to) in spec["trans"]:
        tail.append(f"\t{{ {S[f]}, {E[ev]}, {A[act] if act else 'WR_LC_NO_ACTION'}, {S[to]} }},")
    tail += ["};", "",
             f"const struct wr_lifecycle wr_lifecycle_{name} = {{",
             f'\t.name = "{name}",',
             f"\t.n_states = {up}_N_STATES,", f"\t.n_events = {up}_N_EVENTS,", f"\t.n_actions = {up}_N_ACTIONS,",
             "\t.state_names = state_names,", "\t.event_names = event_names,", "\t.action_names = action_names,",
             "\t.transient = transient,", "\t.terminal = terminal,",
             f"\t.initial = {S['absent']},", f"\t.ev_done = {E['Done']},", f"\t.ev_failed = {E['Failed']},",
             "\t.run = run,", f"\t.start_cs = {name}_start,", f"\t.error_cs = {name}_error,", "\t.cs_of = cs_of,", "\t.model = model,", f"\t.n_model = {len(spec['trans'])},", "};", ""]
    head = f"/* gen/lifecycle/{name}.c — GENERATED from spec/{name}.rl by tools/gen-lifecycle.py\n" \
           f" * (machine compiled by ragel -T0); do not edit. */\n"
    open(path, "w").write(head + machine_c + "\n" + "\n".join(tail))
    return rl


def write_picture(spec, rl, svg_path, tmp):
    dot = subprocess.run(["ragel", "-V", rl], check=True, capture_output=True, text=True).stdout
    ev_by_num = {str(v): k for k, v in spec["events"].items()}
    names = {}
    for a, b, label in re.findall(r"(\w+) -> (\w+) \[ label = \"([^\"]*)\" \]", dot):
        m = re.search(r"in_(\w+)", label)
        if m:
            names[b] = m.group(1)
    out = [f"digraph {spec['machine']} {{", "\trankdir=LR;", '\tnode [ shape = box, style = rounded, fontname = "Helvetica" ];',
           '\tedge [ fontname = "Helvetica", fontsize = 10 ];']
    start = re.search(r"ENTRY -> (\w+)", dot).group(1)
    names[start] = "absent"
    edges = set()
    for a, b, label in re.findall(r"(\w+) -> (\w+) \[ label = \"([^\"]*)\" \]", dot):
        if a not in names or b not in names:
            continue
        evpart, _, acts = label.partition(" / ")
        evs = [ev_by_num.get(x.strip(), x.strip()) for x in re.split(r",\s*|\.\.", evpart) if x.strip()]
        acts = [x.strip() for x in acts.split(",") if x.strip() and not x.strip().startswith("in_")]
        text = ", ".join(evs) + (" / " + ", ".join(acts) if acts else "")
        edges.add((names[a], names[b], text))
    for s in spec["states"]:
        style = ' style = "rounded,dashed"' if s in spec["transient"] else ""
        if s in spec["terminal"]:
            style = ' peripheries = 2'
        out.append(f'\t"{s}" [{style} ];' if style else f'\t"{s}";')
    for a, b, text in sorted(edges):
        out.append(f'\t"{a}" -> "{b}" [ label = "{text}" ];')
    out.append("}")
    dotfile = os.path.join(tmp, "chart.dot")
    open(dotfile, "w").write("\n".join(out) + "\n")
    svg = subprocess.run(["dot", "-Tsvg", dotfile], check=True, capture_output=True, text=True).stdout
    svg = re.sub(r"<!-- Generated by graphviz[^>]*-->\n", "", svg)
    open(svg_path, "w").write(svg)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    spec_path, gen_dir, docs_dir = sys.argv[1:]
    spec = parse(spec_path)
    os.makedirs(os.path.join(gen_dir, "lifecycle"), exist_ok=True)
    os.makedirs(docs_dir, exist_ok=True)
    name = spec["machine"]
    with tempfile.TemporaryDirectory() as tmp:
        write_header(spec, os.path.join(gen_dir, "lifecycle", f"{name}.h"))
        rl = write_source(spec, spec_path, os.path.join(gen_dir, "lifecycle", f"{name}.c"), tmp)
        write_picture(spec, rl, os.path.join(docs_dir, f"{name}.svg"), tmp)


if __name__ == "__main__":
    main()
