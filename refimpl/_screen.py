"""A small layered text screen that plugins draw on during `render`."""

from __future__ import annotations

__all__ = ["Screen"]


class Screen:
    """A `width` x `height` character grid made of layers, composed in z order.

    Each layer is its own grid; `text()` stacks them, lowest `z` first, and a
    character drawn on a higher layer covers the ones below (spaces are
    transparent). Text outside the grid is clipped, never an error.

    Example:
        >>> screen = Screen(width=12, height=2)
        >>> screen.draw(0, 0, "Frame: 1")
        >>> screen.draw(7, 0, "9", layer="overlay", z=1)
        >>> screen.text()
        'Frame: 9'
    """

    def __init__(self, width: int = 60, height: int = 8) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"screen must be at least 1x1, got {width}x{height}")
        self.width = width
        self.height = height
        self._layers: dict[str, tuple[int, list[list[str]]]] = {}

    def draw(self, x: int, y: int, text: str, *, layer: str = "main", z: int = 0) -> None:
        """Write `text` at column `x`, row `y` of `layer` (created at depth `z` if new)."""
        if layer not in self._layers:
            self._layers[layer] = (z, [[" "] * self.width for _ in range(self.height)])
        if not 0 <= y < self.height:
            return
        row = self._layers[layer][1][y]
        for offset, char in enumerate(str(text)):
            column = x + offset
            if 0 <= column < self.width:
                row[column] = char if char.isprintable() else "?"

    def clear(self) -> None:
        """Remove every layer (the host does this before each frame's render)."""
        self._layers.clear()

    def text(self) -> str:
        """Return the composed screen, trailing blanks and blank last rows stripped."""
        grid = [[" "] * self.width for _ in range(self.height)]
        for _, cells in sorted(self._layers.values(), key=lambda layer: layer[0]):
            for y, row in enumerate(cells):
                for x, char in enumerate(row):
                    if char != " ":
                        grid[y][x] = char
        return "\n".join("".join(row).rstrip() for row in grid).rstrip("\n")
