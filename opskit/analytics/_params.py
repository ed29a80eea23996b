"""Constructor parameters of estimators (detectors, forecasters), scikit-learn style."""

from __future__ import annotations

from typing import Any, ClassVar, Self

__all__ = ["Parameterised"]


class Parameterised:
    """Keyword-only constructor parameters, checked on construction and on every change.

    Subclasses list their parameters in ``_param_names`` and validate them in
    ``_check_params`` (raise ``ValueError``/``TypeError``).
    """

    #: Constructor parameters, in order.
    _param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        self._reject_unknown(params, "got unknown parameter(s)")
        for key, value in params.items():
            setattr(self, key, value)
        self._check_params()

    def _reject_unknown(self, params: dict[str, Any], what: str) -> None:
        unknown = sorted(set(params) - set(self._param_names))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} {what} {unknown}; valid: {list(self._param_names)}"
            )

    def _check_params(self) -> None:
        """Raise ``ValueError``/``TypeError`` on invalid parameters (default: none)."""

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params: Any) -> Self:
        """Change parameters (unknown or invalid values raise and change nothing); refit after."""
        self._reject_unknown(params, "has no parameter(s)")
        old = self.get_params()
        for key, value in params.items():
            setattr(self, key, value)
        try:
            self._check_params()
        except (TypeError, ValueError):
            for key, value in old.items():
                setattr(self, key, value)
            raise
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
