"""The simulated paper roll: printed lines, rasters and QR codes as dots, rendered to PNG.

The paper is ``dots`` wide (384 for 58 mm, 576 for 80 mm, at 8 dots/mm). Printing works
like the mechanism: characters collect in a line buffer (ASCII cells 12×24 dots, Chinese
24×24, font B 9×17, scaled by the size multipliers the way printers do it: by repeating
dots), and a line feed prints the buffer with the current alignment and advances by the
line spacing (or the tallest character). Glyphs come from the bundled Noto Sans SC and are
thresholded to black/white, as a thermal head prints them.

Between pieces of paper (cuts) and at events (paper ran out, new roll) the PNG shows a
grey gap with a label, so a tester sees where the resident's receipt ends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

FONT_DIR = Path(__file__).resolve().parents[3] / "assets" / "fonts"
REGULAR_FONT = FONT_DIR / "NotoSansSC-Regular.otf"
BOLD_FONT = FONT_DIR / "NotoSansSC-Bold.otf"

INK_THRESHOLD = 150  # grey levels below this become a black dot
MARGIN = 24  # grey surround in the PNG, in pixels
# unprintable paper edge each side: 58 mm paper (464 dots) has a 48 mm print area, 80 mm (640) 72 mm
SIDE = {384: 40, 576: 32}
GAP = 34  # grey gap between pieces of paper


@lru_cache(maxsize=8)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD_FONT if bold else REGULAR_FONT), size)


@lru_cache(maxsize=4096)
def glyph(char: str, cell_w: int, cell_h: int, bold: bool) -> Image.Image:
    """One character cell as a 1-bit image (0 = black), before size multipliers."""
    image = Image.new("L", (cell_w, cell_h), 255)
    if char.strip():
        draw = ImageDraw.Draw(image)
        size = round(cell_h * (0.92 if cell_w >= cell_h else 0.86))
        font = _font(bold, size)
        left, top, right, bottom = font.getbbox(char)
        # place by the advance width, as the font designs it (full-width punctuation sits low-left)
        x = (cell_w - font.getlength(char)) / 2
        baseline = round(cell_h * 0.83)
        if right - left > cell_w:  # a wide glyph in a narrow cell: squeeze it in
            scratch = Image.new("L", (right - left + 2, cell_h), 255)
            ImageDraw.Draw(scratch).text((1 - left, baseline), char, font=font, fill=0, anchor="ls")
            image = scratch.resize((cell_w, cell_h), Image.LANCZOS)
        else:
            draw.text((x, baseline), char, font=font, fill=0, anchor="ls")
    return image.point(lambda v: 0 if v < INK_THRESHOLD else 255).convert("1", dither=Image.Dither.NONE)


@dataclass
class Cell:
    char: str
    width: int  # dots, after multipliers
    height: int
    base_w: int
    base_h: int
    bold: bool
    underline: int
    reverse: bool = False  # GS B: white on black
    image: Image.Image | None = None  # an ESC * bit image in the line, instead of a character


class Strip:
    """A horizontal band of printed paper, or a marker between pieces.

    The band is kept packed, one bit a dot (Pillow keeps a mode "1" image at a byte a dot): the
    simulator keeps its last 50 receipts, some 1,000 bands, and at a byte a dot they held 20 MB
    of a soak's kiosk process."""

    __slots__ = ("marker", "label", "_size", "_bits")

    def __init__(self, image: Image.Image | None = None, marker: str = "", label: str = ""):
        self.marker = marker  # "cut-partial", "cut-full", "paper-out", "new-roll"
        self.label = label
        if image is not None and image.mode != "1":
            raise ValueError(f"a paper band is a mode 1 image, not {image.mode}")
        self._size = image.size if image is not None else None
        self._bits = image.tobytes() if image is not None else None

    @property
    def image(self) -> Image.Image | None:
        """The band (mode "1", paper width), or None for a marker."""
        return None if self._bits is None else Image.frombytes("1", self._size, self._bits)

    @property
    def is_paper(self) -> bool:
        return self._bits is not None

    @property
    def height(self) -> int:
        return self._size[1] if self._size is not None else 0


@dataclass
class Paper:
    dots: int = 576
    strips: list[Strip] = field(default_factory=list)
    line: list[Cell] = field(default_factory=list)
    line_text: list[str] = field(default_factory=list)  # the text of every printed line, in order
    fed_dots: int = 0  # total paper used, for "paper runs out after N dots"

    # -- the line buffer --------------------------------------------------------------------
    @property
    def line_width(self) -> int:
        return sum(cell.width for cell in self.line)

    def add_cell(self, cell: Cell, align: int, spacing: int) -> list[Strip]:
        printed: list[Strip] = []
        if cell.width > self.dots:
            return printed
        if self.line_width + cell.width > self.dots:  # the printer wraps a full line by itself
            printed.append(self.print_line(align, spacing))
        self.line.append(cell)
        return printed

    def print_line(self, align: int, spacing: int, extra_feed: int = 0) -> Strip:
        """Print the line buffer (or an empty line) and advance the paper."""
        height = max([spacing] + [cell.height for cell in self.line])
        strip = Image.new("1", (self.dots, height + extra_feed), 1)
        width = self.line_width
        x = {0: 0, 1: (self.dots - width) // 2, 2: self.dots - width}.get(align, 0)
        tallest = max([cell.height for cell in self.line], default=0)
        for cell in self.line:
            if cell.image is not None:
                image = cell.image
            else:
                image = glyph(cell.char, cell.base_w, cell.base_h, cell.bold)
                if (cell.width, cell.height) != (cell.base_w, cell.base_h):
                    image = image.resize((cell.width, cell.height), Image.NEAREST)
                if cell.reverse:
                    image = ImageOps.invert(image.convert("L")).convert("1", dither=Image.Dither.NONE)
            top = tallest - cell.height
            strip.paste(image, (x, top))
            if cell.underline:
                draw = ImageDraw.Draw(strip)
                for row in range(cell.underline):
                    y = min(tallest - 1 - row, strip.height - 1)
                    draw.line([(x, y), (x + cell.width - 1, y)], fill=0)
            x += cell.width
        if any(cell.image is None for cell in self.line) or not self.line:
            self.line_text.append("".join(cell.char for cell in self.line if cell.image is None))
        self.line.clear()
        return Strip(strip)

    # -- pictures ---------------------------------------------------------------------------
    def picture(self, image: Image.Image, align: int) -> Strip:
        """A raster or QR: placed on a full-width band with the current alignment."""
        width = min(image.width, self.dots)
        strip = Image.new("1", (self.dots, image.height), 1)
        x = {0: 0, 1: (self.dots - width) // 2, 2: self.dots - width}.get(align, 0)
        strip.paste(image.crop((0, 0, width, image.height)), (x, 0))
        return Strip(strip)

    def blank(self, dots: int) -> Strip:
        return Strip(Image.new("1", (self.dots, max(1, dots)), 1))

    # -- the PNG ----------------------------------------------------------------------------
    def render(self, scale: int = 1) -> Image.Image:
        """The whole roll so far: paper pieces on a grey background, markers labelled."""
        pieces: list[tuple[str, Image.Image | None, str]] = []
        current: list[Image.Image] = []
        for strip in self.strips:
            if strip.is_paper:
                current.append(strip.image)
                continue
            if current:
                pieces.append(("paper", _stack(current, self.dots), ""))
            current = []
            pieces.append((strip.marker, None, strip.label))
        if current or not pieces:
            pieces.append(("paper", _stack(current, self.dots), ""))
        height = MARGIN * 2 + sum(GAP if image is None else image.height for _, image, _ in pieces)
        side = SIDE.get(self.dots, 0)
        canvas = Image.new("RGB", (self.dots + 2 * (MARGIN + side), height), (200, 200, 200))
        draw = ImageDraw.Draw(canvas)
        label_font = _font(False, 15)
        y = MARGIN
        for kind, image, label in pieces:
            if image is not None:
                canvas.paste((255, 255, 255), (MARGIN, y, MARGIN + 2 * side + self.dots, y + image.height))
                canvas.paste(image.convert("RGB"), (MARGIN + side, y))
                y += image.height
                continue
            colour = (190, 30, 30) if kind == "paper-out" else (70, 70, 70)
            middle = y + GAP // 2
            for x in range(4, canvas.width - 4, 12):
                draw.line([(x, middle), (x + 6, middle)], fill=colour, width=2)
            box = draw.textbbox((0, 0), label, font=label_font)
            left = (canvas.width - (box[2] - box[0])) // 2
            draw.rectangle([left - 6, middle - 11, left + box[2] - box[0] + 6, middle + 11], fill=(200, 200, 200))
            draw.text((left, middle), label, font=label_font, fill=colour, anchor="lm")
            y += GAP
        if scale != 1:
            canvas = canvas.resize((canvas.width * scale, canvas.height * scale), Image.NEAREST)
        return canvas


def _stack(images: list[Image.Image], width: int) -> Image.Image:
    height = sum(image.height for image in images) or 1
    paper = Image.new("1", (width, height), 1)
    y = 0
    for image in images:
        paper.paste(image, (0, y))
        y += image.height
    return paper
