"""The REST API's documentation page, rendered on the server from its OpenAPI document.

Why not Swagger UI or Redoc: both load their scripts from a CDN (the web server's CSP allows
scripts from itself only, and the build has no network). One HTML page with no script reads
the same document: each operation with its parameters, body and answers, then every schema.
"""

from __future__ import annotations

from html import escape
from typing import Any

DOCS_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #e8e8ea; background: #141416; }
  code, pre, .op { background: #1f1f23 !important; } th, td { border-color: #333 !important; } }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #8884; }
.op { background: #f4f5f7; border-radius: 8px; padding: .6rem 1rem; margin: 1rem 0; }
.method { font-weight: 700; text-transform: uppercase; margin-right: .5rem; }
code, pre { background: #f4f5f7; border-radius: 4px; padding: 0 .25rem; }
pre { padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; border-bottom: 1px solid #ddd; padding: .25rem .5rem;
         vertical-align: top; }
"""


def _type(schema: dict[str, Any]) -> str:
    """A short type: `string (date-time)`, `SessionOut`, `array of RecordOut`, `x | null`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return "array of " + _type(schema.get("items", {}))
    if "enum" in schema:
        return " | ".join(f"{v!r}" for v in schema["enum"])
    kind = str(schema.get("type", "object"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _limits(schema: dict[str, Any]) -> str:
    names = ("minimum", "maximum", "minLength", "maxLength", "pattern", "default")
    return ", ".join(f"{n} {schema[n]}" for n in names if n in schema)


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f'<div class="op" id="{escape(op.get("operationId", ""))}">',
        f'<span class="method">{escape(method)}</span><code>{escape(path)}</code>',
        f"<p><b>{escape(op.get('summary', ''))}</b></p>",
        f"<p>{escape(op.get('description', ''))}</p>",
    ]
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{escape(_type(p.get('schema', {})))}</td>"
            f"<td>{escape(_limits(p.get('schema', {})))}</td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append(
            "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Limits</th>"
            f"<th>About</th></tr>{rows}</table>"
        )
    body = op.get("requestBody")
    if body:
        kinds = ", ".join(f"<code>{escape(k)}</code>" for k in body.get("content", {}))
        parts.append(f"<p>Body: {kinds}. {escape(body.get('description', ''))}</p>")
    rows = ""
    for status, answer in op.get("responses", {}).items():
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        shown = escape(_type(schema)) if schema else ""
        rows += (
            f"<tr><td>{escape(str(status))}</td><td>{escape(answer.get('description', ''))}"
            f"</td><td>{shown}</td></tr>"
        )
    parts.append(f"<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>{rows}</table>")
    parts.append("</div>")
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(field)}</code>{'' if field in required else ' (optional)'}</td>"
        f"<td>{escape(_type(spec))}</td><td>{escape(spec.get('description', ''))}</td></tr>"
        for field, spec in schema.get("properties", {}).items()
    )
    enum = schema.get("enum")
    extra = f"<p>One of: {escape(', '.join(map(str, enum)))}</p>" if enum else ""
    table = (
        f"<table><tr><th>Field</th><th>Type</th><th>About</th></tr>{rows}</table>" if rows else ""
    )
    return f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>{extra}{table}'


def _inline(text: str) -> str:
    """Escaped text with `code` spans."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _prose(text: str) -> str:
    """A docstring as HTML: blank lines part paragraphs, `* ` starts a list item, indented
    lines continue it, other lines join their paragraph (so a phone wraps it, not the text)."""
    html: list[str] = []
    for block in text.strip().split("\n\n"):
        items: list[str] = []
        for line in block.splitlines():
            if line.startswith("* "):
                items.append(line[2:].strip())
            elif items:
                items[-1] += " " + line.strip()
            else:
                items.append(line.strip())
        if block.lstrip().startswith("* "):
            html.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        else:
            html.append(f"<p>{_inline(' '.join(items))}</p>")
    return "".join(html)


def render_docs(document: dict[str, Any]) -> str:
    """The whole page for an OpenAPI document."""
    info = document.get("info", {})
    operations = "".join(
        _operation(path, method, op)
        for path, methods in document.get("paths", {}).items()
        for method, op in methods.items()
    )
    schemas = "".join(
        _schema(name, schema)
        for name, schema in document.get("components", {}).get("schemas", {}).items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(info.get('title', 'API'))}</title>"
        '<link rel="stylesheet" href="/api/docs.css"></head><body>'
        f"<h1>{escape(info.get('title', 'API'))} <small>v{escape(str(info.get('version')))}"
        "</small></h1>"
        f"{_prose(info.get('description', ''))}"
        '<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>'
        "</p>"
        f"<h2>Operations</h2>{operations}<h2>Schemas</h2>{schemas}</body></html>"
    )
