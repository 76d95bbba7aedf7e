"""Keep only the CSS a site can use.

Material's stylesheet (~135 KB) styles every feature it has; mkdocs-jupyter inlines
JupyterLab's whole stylesheet (~570 KB) into a notebook page, with rules for toolbars,
dialogs and file browsers that a static notebook never shows. After a build, `prune_site`
rewrites the theme's stylesheets and each page's <style> elements, dropping only what
cannot apply:
- a selector that needs a class no page has and no script can add. A class is "needed"
  when it stands in the selector itself, not inside :not(), :is(), :where() or :has()
  (`a:not(.md-button)` needs no class). A script "can add" any word its source contains,
  so every class Material's JavaScript makes after load is kept;
- a rule left with no selector, an @media/@supports block left empty;
- a custom property (`--name: ...`) that nothing reads: no kept declaration, no page's own
  style, no script mentions it, directly or through another custom property.
Everything else is kept as written, in order. The browser tests (axe-core in both
palettes, with search open) run on the pruned site.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import tinycss2

VAR = re.compile(r"var\(\s*(--[\w-]+)")
CUSTOM = re.compile(r"--[\w-]+")
WORD = re.compile(r"-?[_a-zA-Z][\w-]*")
CLASS_ATTR = re.compile(r'class="([^"]*)"')
STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
STYLE_ATTR = re.compile(r'style="([^"]*)"')
SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S)
HASHED = re.compile(r"(?P<stem>.+)\.[0-9a-f]{8}(?P<ext>\.min\.css)")


def classes_in(html: str) -> set[str]:
    return {c for m in CLASS_ATTR.finditer(html) for c in m.group(1).split()}


def _selectors(prelude) -> list[tuple[str, set[str]]]:
    """A rule's selectors, split at the top-level commas, each with the classes it needs."""
    parts, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    out = []
    for tokens in parts:
        needs = {
            b.value for a, b in zip(tokens, tokens[1:]) if a.type == "literal" and a.value == "." and b.type == "ident"
        }
        out.append((tinycss2.serialize(tokens).strip(), needs))
    return out


def _parse(rules, known: set[str]):
    """-> a tree of ("rule", selectors, [(name, value, important)]),
    ("block", head, children) and ("raw", text)."""
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [text for text, needs in _selectors(rule.prelude) if needs <= known]
            if not selectors:
                continue
            decls = [
                (d.name if d.name.startswith("--") else d.lower_name, tinycss2.serialize(d.value).strip(), d.important)
                for d in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True)
                if d.type == "declaration"
            ]
            out.append(("rule", selectors, decls))
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            inner = _parse(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True), known)
            if inner:
                out.append(("block", f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}", inner))
        elif rule.type == "at-rule":
            out.append(("raw", tinycss2.serialize([rule])))
    return out


def _walk(tree):
    for node in tree:
        if node[0] == "block":
            yield from _walk(node[2])
        else:
            yield node


def prune(sheets: list[str], known: set[str], read: set[str] = frozenset()) -> list[str]:
    """Style sheets that apply together, each pruned. `known`: every class that can occur;
    `read`: custom properties read from outside these sheets. A custom property defined in
    one sheet and read in another counts as read."""
    trees = [_parse(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), known) for css in sheets]
    defines: dict[str, set[str]] = {}
    used: set[str] = set(read)
    for node in (node for tree in trees for node in _walk(tree)):
        if node[0] == "raw":
            used.update(VAR.findall(node[1]))
            continue
        for name, value, _ in node[2]:
            refs = set(VAR.findall(value))
            if name.startswith("--"):
                defines.setdefault(name, set()).update(refs)
            else:
                used.update(refs)
    todo = list(used)
    while todo:
        for ref in defines.get(todo.pop(), ()):
            if ref not in used:
                used.add(ref)
                todo.append(ref)

    def write(tree) -> str:
        text = []
        for node in tree:
            if node[0] == "raw":
                text.append(node[1])
            elif node[0] == "block":
                inner = write(node[2])
                if inner:
                    text.append(f"{node[1]}{{{inner}}}")
            else:
                decls = [
                    f"{name}:{value}{'!important' if important else ''}"
                    for name, value, important in node[2]
                    if not name.startswith("--") or name in used
                ]
                if decls:
                    text.append(f"{','.join(node[1])}{{{';'.join(decls)}}}")
        return "".join(text)

    return [write(tree) for tree in trees]


def prune_site(site_dir: Path) -> dict[str, tuple[int, int]]:
    """Prune the built site in place: the theme's stylesheets against every page, and each
    page's own <style> elements against that page. -> {file: (bytes before, after)}."""
    pages = {p: p.read_text(encoding="utf-8") for p in sorted(site_dir.rglob("*.html"))}
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in site_dir.rglob("*.js"))
    script_words = set(WORD.findall(scripts))
    sheets = sorted((site_dir / "assets" / "stylesheets").glob("*.css"))
    changed: dict[str, tuple[int, int]] = {}

    texts = [s.read_text(encoding="utf-8") for s in sheets]
    theme_reads = {name for text in texts for name in VAR.findall(text)}

    # Each page's own styles: its classes, and whatever its scripts (inline or not) mention.
    # A custom property a page defines may be read by the theme (the contrast fixes are).
    page_known: dict[Path, set[str]] = {}
    page_read: set[str] = set()  # custom properties the pages' own CSS and style="" read
    for path, html in pages.items():
        inline_js = "\n".join(SCRIPT.findall(html))
        known = classes_in(html) | script_words | set(WORD.findall(inline_js))
        page_known[path] = known
        styles = [m.group(2) for m in STYLE.finditer(html)]
        if styles:
            read = theme_reads | set(CUSTOM.findall(inline_js + scripts))
            pruned = iter(prune(styles, known, read=read))

            def one(m: re.Match, pruned=pruned) -> str:
                css = next(pruned)
                return m.group(1) + css + m.group(3) if css else ""

            html_out = STYLE.sub(one, html)
            if html_out != html:
                path.write_text(html_out, encoding="utf-8")
                changed[str(path.relative_to(site_dir))] = (len(html.encode()), len(html_out.encode()))
                html = html_out
        for m in STYLE.finditer(html):
            page_read.update(VAR.findall(m.group(2)))
        for m in STYLE_ATTR.finditer(html):
            page_read.update(VAR.findall(m.group(1)))
        page_read.update(CUSTOM.findall(inline_js))

    # The theme's stylesheets: every page's classes, and what any script mentions.
    known = set().union(*page_known.values()) if page_known else set(script_words)
    changed.update(_prune_sheets(site_dir, sheets, texts, known, page_read | set(CUSTOM.findall(scripts))))
    return changed


def _prune_sheets(site_dir: Path, sheets: list[Path], texts: list[str], known: set[str], read: set[str]) -> dict:
    """Prune the theme's stylesheets; a pruned sheet gets a name of its own, and the pages
    link it. -> {file: (bytes before, after)}."""
    changed: dict[str, tuple[int, int]] = {}
    renamed: dict[str, str] = {}
    for sheet, before, after in zip(sheets, texts, prune(texts, known, read)):
        if after == before:
            continue
        # Material names a stylesheet by a hash of its content: a pruned one gets its own,
        # so that a cache never pairs a page with a sheet pruned for another build. Its
        # source map described the unpruned sheet: it goes.
        m = HASHED.fullmatch(sheet.name)
        digest = hashlib.sha256(after.encode()).hexdigest()[:8]
        target = sheet.with_name(f"{m['stem']}.{digest}{m['ext']}") if m else sheet
        target.write_text(after, encoding="utf-8")
        if target != sheet:
            sheet.unlink()
            sheet.with_name(sheet.name + ".map").unlink(missing_ok=True)
            renamed[f"stylesheets/{sheet.name}"] = f"stylesheets/{target.name}"
        changed[str(target.relative_to(site_dir))] = (len(before.encode()), len(after.encode()))
    for path in site_dir.rglob("*.html") if renamed else ():
        html = path.read_text(encoding="utf-8")
        linked = html
        for old, new in renamed.items():
            linked = linked.replace(old, new)
        if linked != html:
            path.write_text(linked, encoding="utf-8")
    return changed
