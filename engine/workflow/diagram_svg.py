"""Draws a BPMN diagram as SVG from its diagram interchange, marking completed and current steps."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

PAD = 20
LEGEND_HEIGHT = 36
FONT = "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif"
LEGEND = (("done", "已完成"), ("current", "当前环节"), ("", "未经过"))

# Self-contained styles, so the same SVG serves as a picture in reports; every class is
# prefixed so that an SVG inlined in a page does not restyle the page.
STYLE = f"""
.bpmn-diagram text {{ font-family: {FONT}; fill: #1f2933; }}
.bpmn-pool, .bpmn-lane {{ fill: none; stroke: #9aa5b1; stroke-width: 1; }}
.bpmn-band {{ font-size: 14px; font-weight: 600; }}
.bpmn-node {{ fill: #ffffff; stroke: #52606d; stroke-width: 1.5; }}
.bpmn-end .bpmn-node {{ stroke-width: 4; }}
.bpmn-inner {{ fill: none; stroke: #52606d; stroke-width: 1.2; }}
.bpmn-flow {{ fill: none; stroke: #7b8794; stroke-width: 1.4; }}
.bpmn-label {{ font-size: 12px; }}
.bpmn-name {{ font-size: 13px; }}
.bpmn-done .bpmn-node {{ fill: #e3f4e8; stroke: #1e7b34; }}
.bpmn-done.bpmn-flow, .bpmn-done .bpmn-flow {{ stroke: #1e7b34; stroke-width: 2.2; }}
.bpmn-current .bpmn-node {{ fill: #fff1c2; stroke: #c2410c; stroke-width: 4; }}
.bpmn-subProcess .bpmn-node {{ fill: none; }}
.bpmn-subProcess.bpmn-current .bpmn-node {{ fill: none; stroke-width: 2.5; }}
.bpmn-subProcess.bpmn-done .bpmn-node {{ fill: none; }}
.bpmn-legend text {{ font-size: 13px; }}
"""

TASKS = {"userTask", "task", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
EVENTS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Element:
    id: str
    kind: str  # the BPMN element's local name: userTask, startEvent, lane …
    name: str
    event: str | None = None  # timer | message | … for events with a definition
    interrupting: bool = True
    source: str | None = None
    target: str | None = None
    loop: str | None = None  # parallel | sequential, for a multi-instance step


@dataclass
class Shape:
    element: Element
    box: Box
    label: Box | None = None
    marker: bool = False


@dataclass
class Edge:
    element: Element
    points: list[tuple[float, float]]
    label: Box | None = None


@dataclass
class Plane:
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def render_svg(
    xml: bytes,
    completed: Collection[str] = (),
    current: Collection[str] = (),
    title: str = "流程图",
    legend: bool = True,
) -> str:
    """The first diagram of `xml` as standalone SVG; `completed` and `current` are element ids.
    Without `legend` (a version, not a matter's progress) nothing is marked or explained."""
    plane = read_plane(xml)
    done, now = set(completed), set(current)
    boxes = [s.box for s in plane.shapes] + [s.label for s in plane.shapes if s.label]
    xs = [b.x for b in boxes] + [x for e in plane.edges for x, _ in e.points]
    ys = [b.y for b in boxes] + [y for e in plane.edges for _, y in e.points]
    right = [b.x + b.w for b in boxes] + xs
    bottom = [b.y + b.h for b in boxes] + ys
    left, top = (min(xs) - PAD, min(ys) - PAD) if xs else (0, 0)
    width = (max(right) + PAD - left) if right else 200
    height = (max(bottom) + PAD - top) if bottom else 100
    names = [s.element.name for s in plane.shapes if s.element.id in now and s.element.name]
    desc = "当前环节：" + ("、".join(dict.fromkeys(names)) or "无")
    if not legend:
        desc = "该版本的步骤及其流向"
    legend_height = LEGEND_HEIGHT if legend else 0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn-diagram" role="img" '
        f'viewBox="{_n(left)} {_n(top)} {_n(width)} {_n(height + legend_height)}" '
        f'width="{_n(width)}" height="{_n(height + legend_height)}" '
        f"aria-label={quoteattr(f'{title}。{desc}')}>",
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f"<style>{STYLE}</style>",
        _markers(),
    ]
    order = {"participant": 0, "lane": 1}
    for shape in sorted(plane.shapes, key=lambda s: order.get(s.element.kind, 2)):
        if shape.element.kind in order:
            out.append(_container(shape))
    # A subprocess is drawn under what it holds: its frame, then the flows, then the steps.
    framed = [shape for shape in plane.shapes if shape.element.kind == "subProcess"]
    for shape in framed:
        out.append(_node(shape, _state(shape.element.id, done, now)))
    for edge in plane.edges:
        out.append(_edge(edge, done, now))
    for shape in plane.shapes:
        if shape.element.kind not in order and shape not in framed:
            out.append(_node(shape, _state(shape.element.id, done, now)))
    if legend:
        out.append(_legend(left + PAD, top + height + 4))
    out.append("</svg>")
    return "\n".join(part for part in out if part)


# --- reading the diagram interchange --------------------------------------------------------


def read_plane(xml: bytes) -> Plane:
    """Shapes and edges of the first BPMN plane, each with the model element it draws."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    root = etree.fromstring(xml, parser=parser)
    elements = dict(_elements(root))
    plane = Plane()
    first = root.find(f".//{{{BPMNDI}}}BPMNPlane")
    if first is None:
        return plane
    for node in first:
        ref = node.get("bpmnElement") or ""
        element = elements.get(ref, Element(ref, "unknown", ""))
        label = node.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
        label_box = _box(label) if label is not None else None
        if node.tag == f"{{{BPMNDI}}}BPMNShape":
            bounds = node.find(f"{{{DC}}}Bounds")
            if bounds is not None:
                marker = node.get("isMarkerVisible") == "true"
                plane.shapes.append(Shape(element, _box(bounds), label_box, marker))
        elif node.tag == f"{{{BPMNDI}}}BPMNEdge":
            points = [
                (float(p.get("x", 0)), float(p.get("y", 0)))
                for p in node.findall(f"{{{DI}}}waypoint")
            ]
            if len(points) >= 2:
                plane.edges.append(Edge(element, points, label_box))
    return plane


def _elements(root: etree._Element) -> Iterator[tuple[str, Element]]:
    for node in root.iter(f"{{{BPMN}}}*"):
        element_id = node.get("id")
        if not element_id:
            continue
        kind = etree.QName(node).localname
        definition = next(
            (
                etree.QName(child).localname.removesuffix("EventDefinition")
                for child in node
                if etree.QName(child).localname.endswith("EventDefinition")
            ),
            None,
        )
        loop = node.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
        yield (
            element_id,
            Element(
                id=element_id,
                kind=kind,
                name=(node.get("name") or "").strip(),
                event=definition,
                interrupting=node.get("cancelActivity", "true") != "false",
                source=node.get("sourceRef"),
                target=node.get("targetRef"),
                loop=None
                if loop is None
                else ("sequential" if loop.get("isSequential") == "true" else "parallel"),
            ),
        )


def _box(bounds: etree._Element) -> Box:
    return Box(*(float(bounds.get(k, 0)) for k in ("x", "y", "width", "height")))


# --- drawing ------------------------------------------------------------------------------


def _state(element_id: str, done: set[str], now: set[str]) -> str:
    if element_id in now:
        return "current"
    return "done" if element_id in done else ""


def _group(element: Element, state: str, extra: str = "") -> str:
    classes = " ".join(c for c in ("bpmn-" + element.kind, extra, state and "bpmn-" + state) if c)
    return f'<g class="{classes}" data-element-id={quoteattr(element.id)}>'


def _tooltip(element: Element, state: str) -> str:
    said = {"done": "（已完成）", "current": "（当前环节）"}.get(state, "")
    return f"<title>{escape((element.name or element.id) + said)}</title>"


def _container(shape: Shape) -> str:
    b, name = shape.box, shape.element.name
    css = "bpmn-pool" if shape.element.kind == "participant" else "bpmn-lane"
    band_x = b.x + 15
    return (
        f'<g class="{css}-group" data-element-id={quoteattr(shape.element.id)}>'
        f'<rect class="{css}" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}"/>'
        f'<line class="{css}" x1="{_n(b.x + 30)}" y1="{_n(b.y)}" x2="{_n(b.x + 30)}" '
        f'y2="{_n(b.y + b.h)}"/>'
        f'<text class="bpmn-band" x="{_n(band_x)}" y="{_n(b.cy)}" text-anchor="middle" '
        f'dominant-baseline="central" transform="rotate(-90 {_n(band_x)} {_n(b.cy)})">'
        f"{escape(name)}</text></g>"
    )


def _edge(edge: Edge, done: set[str], now: set[str]) -> str:
    element = edge.element
    taken = element.source in done and (element.target in done or element.target in now)
    state = "done" if taken else ""
    points = " ".join(f"{_n(x)},{_n(y)}" for x, y in edge.points)
    arrow = "bpmn-arrow-done" if taken else "bpmn-arrow"
    css = "bpmn-flow bpmn-done" if taken else "bpmn-flow"
    parts = [
        _group(element, state),
        f'<polyline class="{css}" points="{points}" marker-end="url(#{arrow})"/>',
    ]
    if element.name and edge.label is not None:
        parts.append(_text_lines(element.name, edge.label, "bpmn-label", wrap=False))
    parts.append("</g>")
    return "".join(parts)


def _node(shape: Shape, state: str) -> str:
    element, b = shape.element, shape.box
    kind = element.kind
    extra = "bpmn-end" if kind == "endEvent" else ""
    parts = [_group(element, state, extra), _tooltip(element, state)]
    if kind in GATEWAYS:
        parts.append(_gateway(shape))
    elif kind in EVENTS:
        parts.append(_event(element, b))
    else:
        parts.append(
            f'<rect class="bpmn-node" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" '
            f'height="{_n(b.h)}" rx="10"/>'
        )
    if kind == "subProcess":  # its name at the top, clear of the steps inside
        parts.append(_text_lines(element.name, Box(b.x, b.y + 4, b.w, 18), "bpmn-name", False))
    elif kind not in GATEWAYS | EVENTS:
        parts.append(_text_lines(element.name, b, "bpmn-name", wrap=True))
    elif element.name:
        label = shape.label or Box(b.x - 20, b.y + b.h + 4, b.w + 40, 14)
        parts.append(_text_lines(element.name, label, "bpmn-label", wrap=False))
    if kind == "serviceTask":
        parts.append(_gear(b.x + 13, b.y + 13))
    if element.loop is not None:
        parts.append(_loop_marker(b, element.loop))
    parts.append("</g>")
    return "".join(parts)


def _gateway(shape: Shape) -> str:
    b = shape.box
    points = f"{_n(b.cx)},{_n(b.y)} {_n(b.x + b.w)},{_n(b.cy)} {_n(b.cx)},{_n(b.y + b.h)} "
    points += f"{_n(b.x)},{_n(b.cy)}"
    out = f'<polygon class="bpmn-node" points="{points}"/>'
    k = b.w / 5
    if shape.element.kind == "exclusiveGateway" and shape.marker:
        out += (
            f'<path class="bpmn-inner" stroke-width="3" d="M{_n(b.cx - k)},{_n(b.cy - k)} '
            f"L{_n(b.cx + k)},{_n(b.cy + k)} M{_n(b.cx + k)},{_n(b.cy - k)} "
            f'L{_n(b.cx - k)},{_n(b.cy + k)}"/>'
        )
    elif shape.element.kind == "parallelGateway":
        out += (
            f'<path class="bpmn-inner" stroke-width="3" d="M{_n(b.cx)},{_n(b.cy - k)} '
            f'V{_n(b.cy + k)} M{_n(b.cx - k)},{_n(b.cy)} H{_n(b.cx + k)}"/>'
        )
    elif shape.element.kind == "eventBasedGateway":
        out += _circle(b.cx, b.cy, k * 1.3, "bpmn-inner") + _circle(b.cx, b.cy, k, "bpmn-inner")
    return out


def _event(element: Element, b: Box) -> str:
    r = b.w / 2
    dashed = "" if element.interrupting else ' stroke-dasharray="4 3"'
    out = _circle(b.cx, b.cy, r, "bpmn-node", dashed)
    if element.kind in {"intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}:
        out += _circle(b.cx, b.cy, r - 3, "bpmn-inner", dashed)
    if element.event == "timer":
        out += _circle(b.cx, b.cy, r - 7, "bpmn-inner")
        out += (
            f'<path class="bpmn-inner" d="M{_n(b.cx)},{_n(b.cy)} V{_n(b.cy - r + 10)} '
            f'M{_n(b.cx)},{_n(b.cy)} H{_n(b.cx + r - 11)}"/>'
        )
    elif element.event == "message":
        w, h = r * 0.9, r * 0.6
        x, y = b.cx - w / 2, b.cy - h / 2
        out += (
            f'<rect class="bpmn-inner" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"/>'
            f'<path class="bpmn-inner" d="M{_n(x)},{_n(y)} L{_n(b.cx)},{_n(b.cy)} '
            f'L{_n(x + w)},{_n(y)}"/>'
        )
    return out


def _gear(cx: float, cy: float) -> str:
    """A service task's mark: a small cog (an operation the system runs, not a person)."""
    teeth = " ".join(
        f"M{_n(cx + 5 * math.cos(a))},{_n(cy + 5 * math.sin(a))} "
        f"L{_n(cx + 8 * math.cos(a))},{_n(cy + 8 * math.sin(a))}"
        for a in (i * math.pi / 4 for i in range(8))
    )
    return _circle(cx, cy, 5, "bpmn-inner") + f'<path class="bpmn-inner" d="{teeth}"/>'


def _loop_marker(b: Box, loop: str) -> str:
    """Three bars at the bottom of a multi-instance step: upright when the instances run side
    by side (each township at once), lying when one after another."""
    x, y = b.cx - 6, b.y + b.h - 16
    if loop == "parallel":
        d = " ".join(f"M{_n(x + i * 6)},{_n(y)} V{_n(y + 12)}" for i in range(3))
    else:
        d = " ".join(f"M{_n(x)},{_n(y + i * 6)} H{_n(x + 12)}" for i in range(3))
    return f'<path class="bpmn-inner" stroke-width="2" d="{d}"/>'


def _circle(cx: float, cy: float, r: float, css: str, extra: str = "") -> str:
    return f'<circle class="{css}" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{extra}/>'


def _text_lines(text: str, box: Box, css: str, wrap: bool) -> str:
    """Centered text; inside a task it wraps by width (a CJK character is about 1 em)."""
    size = 13 if css == "bpmn-name" else 12
    lines = _wrap(text, max(1, int((box.w - 10) / size))) if wrap else [text]
    first = box.cy - (len(lines) - 1) * (size + 2) / 2
    spans = "".join(
        f'<tspan x="{_n(box.cx)}" y="{_n(first + i * (size + 2))}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="{css}" text-anchor="middle" dominant-baseline="central">{spans}</text>'


def _wrap(text: str, per_line: int) -> list[str]:
    """Lines of about equal width, none wider than `per_line` ems."""
    widths = [0.55 if char.isascii() else 1.0 for char in text]
    target = min(per_line, math.ceil(sum(widths) / max(1, math.ceil(sum(widths) / per_line))))
    lines, line, width = [], "", 0.0
    for char, step in zip(text, widths, strict=True):
        if width + step > target and line:
            lines.append(line)
            line, width = "", 0.0
        line += char
        width += step
    return lines + [line] if line else lines


def _markers() -> str:
    def arrow(marker_id: str, color: str) -> str:
        return (
            f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )

    return f"<defs>{arrow('bpmn-arrow', '#7b8794')}{arrow('bpmn-arrow-done', '#1e7b34')}</defs>"


def _legend(x: float, y: float) -> str:
    parts = ['<g class="bpmn-legend" aria-hidden="true">']
    for state, text in LEGEND:
        css = f' class="bpmn-{state}"' if state else ""
        parts.append(
            f'<g{css}><rect class="bpmn-node" x="{_n(x)}" y="{_n(y + 6)}" width="28" '
            f'height="18" rx="4"/><text x="{_n(x + 36)}" y="{_n(y + 15)}" '
            f'dominant-baseline="central">{escape(text)}</text></g>'
        )
        x += 130
    parts.append("</g>")
    return "".join(parts)


def _n(value: float) -> str:
    """Coordinates without needless decimals."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
