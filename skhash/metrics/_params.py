"""Parameter constraints shared by the metrics (scikit-learn's ``validate_params``)."""

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from ..utils import N_JOBS_CONSTRAINT

__all__ = ["LABELLED_RANKING", "POSITIVE_INT", "TIES"]

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
TIES = [StrOptions({"stable", "expected"})]

#: Arguments of every metric that ranks a database for labelled queries.
LABELLED_RANKING = {
    "query_codes": ["array-like"],
    "db_codes": ["array-like", None],
    "y_query": ["array-like"],
    "y_db": ["array-like", None],
    "n_jobs": N_JOBS_CONSTRAINT,
}
