"""Churn-risk estimators for any tabular churn data.

:func:`churn_model` returns a :class:`ChurnModel`, a scikit-learn classifier
(``fit(X, y)``, ``predict_proba(X)``, ``predict(X)``, ``get_params``) that takes a
raw frame of mixed numeric, categorical, boolean, text-coded-number and missing
values. At ``fit`` it builds its own pipeline::

    FramePreparer -> ColumnTransformer -> LogisticRegression | HistGradientBoosting

- ``kind="logit"``: L2-regularised logistic regression (Newton-Cholesky solver, so
  it converges in a few iterations). Numeric columns are median-imputed with a
  missing indicator and standardised; categorical ones are one-hot encoded against
  a reference level (the most frequent, or ``reference={col: level}``).
  :meth:`ChurnModel.odds_ratios` gives per-unit odds ratios with Wald intervals
  from the inverse Hessian of the penalised likelihood.
- ``kind="gbm"``: histogram gradient boosting with native missing-value and
  categorical handling and early stopping.

Both are calibrated on a stratified held-out fold (``calibration_fraction`` of the
rows): isotonic regression when that fold holds at least 200 churners, else a
sigmoid; the base model is fitted on the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from opskit.analytics.churn._prepare import FramePreparer, as_frame
from opskit.errors import NotFittedError

__all__ = ["ChurnModel", "ModelKind", "churn_model", "split_target"]

ModelKind = Literal["logit", "gbm"]
Calibration = Literal["auto", "isotonic", "sigmoid", "none"]
#: Fewest churners in the calibration fold for isotonic calibration under "auto".
ISOTONIC_MIN_POSITIVES = 200


def split_target(X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and a 1-D target from ``(X, y)``; ``y`` may name a column of ``X``.

    Raises
    ------
    ValueError
        Missing target (``None``, an absent column, NaN values), a length mismatch
        or a target without exactly two classes.
    """
    df = as_frame(X)
    if y is None:
        raise ValueError("missing target: pass y (an array or the name of a column of X)")
    if isinstance(y, str):
        if y not in df.columns:
            raise ValueError(f"missing target: X has no column {y!r}")
        target = df[y]
        df = df.drop(columns=[y])
        if df.shape[1] == 0:
            raise ValueError("X has no feature columns besides the target")
    else:
        target = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if len(target) != len(df):
        raise ValueError(f"X has {len(df)} rows but y has {len(target)}")
    if target.isna().any():
        raise ValueError(f"the target has {int(target.isna().sum())} missing value(s)")
    values = target.to_numpy()
    classes = np.unique(values)
    if len(classes) != 2:
        raise ValueError(
            f"the target must have exactly two classes, got {len(classes)}: {classes[:5].tolist()}"
        )
    return df, values


class ChurnModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated churn classifier that encodes and imputes raw frames itself.

    Parameters
    ----------
    kind
        ``"logit"`` (interpretable, odds ratios) or ``"gbm"`` (gradient boosting).
    C
        Inverse L2 strength of the logit (on standardised features).
    learning_rate, max_iter, max_leaf_nodes
        Gradient boosting settings (``max_iter`` is an upper bound: early stopping).
    calibration
        ``"auto"``, ``"isotonic"``, ``"sigmoid"`` or ``"none"``.
    calibration_fraction
        Share of rows held out (stratified) to fit the calibrator.
    reference
        Reference level per categorical column for the logit's odds ratios.
    constant
        ``"raise"`` on constant features (default) or ``"drop"`` them.
    max_categories
        Most levels kept per categorical column.
    random_state
        Seed of the calibration split and the boosting.
    n_threads
        OpenMP threads for fitting and scoring (``None``: the library default, all
        cores). On a shared, busy machine ``1`` is often several times faster.
    """

    def __init__(
        self,
        kind: ModelKind = "logit",
        *,
        C: float = 1.0,
        learning_rate: float = 0.1,
        max_iter: int = 300,
        max_leaf_nodes: int = 31,
        calibration: Calibration = "auto",
        calibration_fraction: float = 0.2,
        reference: Mapping[str, str] | None = None,
        constant: Literal["raise", "drop"] = "raise",
        max_categories: int = 30,
        random_state: int | None = 0,
        n_threads: int | None = None,
    ) -> None:
        self.kind = kind
        self.C = C
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.reference = reference
        self.constant = constant
        self.max_categories = max_categories
        self.random_state = random_state
        self.n_threads = n_threads

    # -- fitting -------------------------------------------------------------
    def _encoder(self, prep: FramePreparer) -> ColumnTransformer:
        num, cat = prep.numeric_, prep.categorical_
        if self.kind == "logit":
            parts: list[tuple[str, Any, list[str]]] = [
                (
                    "num",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                            ("scale", StandardScaler()),
                        ]
                    ),
                    num,
                ),
                (
                    "cat",
                    OneHotEncoder(
                        categories=[prep.levels_[c] for c in cat],
                        drop=[prep.reference_[c] for c in cat] if cat else None,
                        sparse_output=False,
                        dtype=np.float64,
                    ),
                    cat,
                ),
            ]
        else:
            parts = [
                ("num", "passthrough", num),
                ("cat", OrdinalEncoder(categories=[prep.levels_[c] for c in cat]), cat),
            ]
        return ColumnTransformer([p for p in parts if p[2]], verbose_feature_names_out=True)

    def _estimator(self, n_num: int, n_cat: int) -> Any:
        if self.kind == "logit":
            return LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=100)
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=1.0,
            categorical_features=np.r_[np.zeros(n_num, bool), np.ones(n_cat, bool)],
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=10,
            random_state=self.random_state,
        )

    def fit(self, X: Any, y: Any = None) -> ChurnModel:
        """Fit on a raw frame; ``y`` is the churn label (array) or a column name of ``X``."""
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> ChurnModel:
        if self.kind not in ("logit", "gbm"):
            raise ValueError(f"kind must be 'logit' or 'gbm', got {self.kind!r}")
        if not 0 <= self.calibration_fraction < 1:
            raise ValueError("calibration_fraction must be in [0, 1)")
        df, target = split_target(X, y)
        self.classes_ = np.unique(target)
        yb = (target == self.classes_[1]).astype(np.int64)
        prep = FramePreparer(
            max_categories=self.max_categories, reference=self.reference, constant=self.constant
        ).fit(df)
        method = self.calibration
        if method != "none" and self.calibration_fraction > 0:
            tr, cal = train_test_split(
                np.arange(len(df)),
                test_size=self.calibration_fraction,
                stratify=yb,
                random_state=self.random_state,
            )
        else:
            tr, cal = np.arange(len(df)), np.arange(0)
        enc = self._encoder(prep)
        z = enc.fit_transform(prep.transform(df.iloc[tr]))
        est = self._estimator(len(prep.numeric_), len(prep.categorical_))
        est.fit(z, yb[tr])
        self.pipeline_ = Pipeline([("prepare", prep), ("encode", enc), ("model", est)])
        self.calibrator_: CalibratedClassifierCV | None = None
        self.calibration_method_ = "none"
        if len(cal):
            if method == "auto":
                method = "isotonic" if yb[cal].sum() >= ISOTONIC_MIN_POSITIVES else "sigmoid"
            self.calibrator_ = CalibratedClassifierCV(
                FrozenEstimator(self.pipeline_), method=method
            ).fit(df.iloc[cal], yb[cal])
            self.calibration_method_ = method
        self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        self.n_features_in_ = df.shape[1]
        self.n_train_, self.n_calibration_ = len(tr), len(cal)
        if self.kind == "logit":
            self.coef_table_ = self._coef_table(prep, enc, est, z)
        return self

    # -- prediction ----------------------------------------------------------
    @property
    def dropped_features_(self) -> list[str]:
        """Features left out because they did not vary in the training data (``constant="drop"``)."""
        self._check()
        return list(self.pipeline_.named_steps["prepare"].dropped_)

    def _check(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise NotFittedError("this ChurnModel is not fitted yet; call fit(X, y) first")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes_`` order."""
        self._check()
        df = as_frame(X)
        model = self.calibrator_ if self.calibrator_ is not None else self.pipeline_
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            p: np.ndarray = model.predict_proba(df)
        return p

    def predict_risk(self, X: Any) -> np.ndarray:
        """Calibrated churn probability (the positive class), 1-D."""
        return self.predict_proba(X)[:, 1]

    def predict_uncalibrated(self, X: Any) -> np.ndarray:
        """The base model's churn probability, before calibration."""
        self._check()
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            out: np.ndarray = self.pipeline_.predict_proba(as_frame(X))[:, 1]
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class (threshold 0.5 on the calibrated probability)."""
        out: np.ndarray = self.classes_[(self.predict_risk(X) >= 0.5).astype(int)]
        return out

    # -- interpretation ------------------------------------------------------
    def _coef_table(
        self, prep: FramePreparer, enc: ColumnTransformer, est: LogisticRegression, z: np.ndarray
    ) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        scale = np.ones(z.shape[1])
        scaled = np.zeros(z.shape[1], dtype=bool)
        if prep.numeric_:
            num = enc.named_transformers_["num"]
            imp, sc = num.named_steps["impute"], num.named_steps["scale"]
            ind = (
                []
                if imp.indicator_ is None
                else [prep.numeric_[i] for i in imp.indicator_.features_]
            )
            for c in prep.numeric_:
                rows.append({"feature": c, "level": None, "kind": prep.kinds_[c]})
            for c in ind:
                rows.append({"feature": c, "level": "(missing)", "kind": "missing"})
            scale[: len(rows)] = sc.scale_
            scaled[: len(rows)] = True
        for c in prep.categorical_:
            for level in prep.levels_[c]:
                if level != prep.reference_[c]:
                    rows.append({"feature": c, "level": level, "kind": "categorical"})
        p = est.predict_proba(z)[:, 1]
        z1 = np.column_stack([np.ones(len(z)), z])
        hess = (z1 * (p * (1 - p))[:, None]).T @ z1
        hess[1:, 1:] += np.eye(z.shape[1]) / self.C
        cov = np.linalg.pinv(hess)
        se = np.sqrt(np.clip(np.diag(cov)[1:], 0, None))
        beta = est.coef_.ravel()
        out = pd.DataFrame(rows)
        out["reference"] = [
            prep.reference_.get(f) if k == "categorical" else None
            for f, k in zip(out["feature"], out["kind"], strict=True)
        ]
        out["coef"] = beta / scale
        out["se"] = se / scale
        out["std_coef"] = np.where(scaled, beta, beta * z.std(axis=0))
        out["term"] = [
            f if lv is None else f"{f} {lv}" if k == "missing" else f"{f}={lv}"
            for f, lv, k in zip(out["feature"], out["level"], out["kind"], strict=True)
        ]
        return out

    def odds_ratios(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per-unit odds ratios of the logit with Wald confidence intervals.

        Returns
        -------
        pandas.DataFrame
            ``term, feature, level, kind, reference, coef`` (log odds ratio per raw
            unit; per level vs ``reference`` for categories), ``se``, ``std_coef``
            (per standard deviation of the encoded column, for ranking),
            ``odds_ratio, ci_low, ci_high, p_value``, largest ``|std_coef|`` first.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            For ``kind="gbm"`` (no odds ratios) or a confidence outside (0, 1).
        """
        self._check()
        if self.kind != "logit":
            raise ValueError("odds ratios exist for kind='logit' only")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        t = self.coef_table_.copy()
        zc = stats.norm.ppf(0.5 + confidence / 2)
        t["odds_ratio"] = np.exp(t["coef"])
        t["ci_low"] = np.exp(t["coef"] - zc * t["se"])
        t["ci_high"] = np.exp(t["coef"] + zc * t["se"])
        with np.errstate(divide="ignore", invalid="ignore"):
            t["p_value"] = 2 * stats.norm.sf(np.abs(t["coef"] / t["se"]))
        cols = ["term", "feature", "level", "kind", "reference", "coef", "se", "std_coef",
                "odds_ratio", "ci_low", "ci_high", "p_value"]  # fmt: skip
        order = t["std_coef"].abs().sort_values(ascending=False, kind="stable").index
        return t.loc[order, cols].reset_index(drop=True)


def churn_model(kind: ModelKind = "logit", **params: Any) -> ChurnModel:
    """A calibrated churn classifier for raw tabular data.

    Parameters
    ----------
    kind
        ``"logit"`` (regularised logistic regression with odds ratios) or ``"gbm"``
        (histogram gradient boosting).
    **params
        Further :class:`ChurnModel` parameters (``C``, ``reference``, ``calibration`` ...).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"fee": ["1,200", "15", "$30", None] * 50,
    ...                   "plan": ["a", "b", "a", "c"] * 50})
    >>> y = [1, 0, 0, 1] * 50
    >>> m = churn_model("logit", calibration="none").fit(X, y)
    >>> m.predict_proba(X).shape
    (200, 2)
    """
    return ChurnModel(kind, **params)
