"""Named collections read from TOML data files (probe catalog, rule sets): a shipped default that user files extend
or override, and lookups whose error lists the valid names."""

from __future__ import annotations

from pathlib import Path

from .errors import ScenarioError, UnknownNameError

__all__ = ["NamedSet"]


class NamedSet:
    """Items by name. Subclasses set ``kind`` (for messages) and implement ``_parse(data, where) -> dict`` and
    ``default() -> the shipped set``."""

    kind = "item"

    def __init__(self, items: dict):
        self._items = dict(items)

    @classmethod
    def _parse(cls, data: bytes, where: str) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def default(cls):  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def from_toml(cls, *paths, include_default: bool = True):
        """The shipped set (unless ``include_default=False``) plus the files, later ones replacing same names."""
        items = dict(cls.default()._items) if include_default else {}
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise ScenarioError(f"cannot read the {cls.kind} file ({exc.strerror})", path) from None
            items.update(cls._parse(data, str(path)))
        return cls(items)

    def with_items(self, extra: dict):
        return type(self)({**self._items, **extra})

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name) -> bool:
        return name in self._items

    def __getitem__(self, name: str):
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self._items) from None

    def __iter__(self):
        return iter(self._items[n] for n in self.names())
