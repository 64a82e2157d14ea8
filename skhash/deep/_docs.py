"""One docstring mechanism for the deep hashers: named sections filled into placeholders."""

import inspect
import re
import textwrap

__all__ = ["doc_filler"]

# The parameters and attributes that BaseDeepHasher's training loop gives every deep hasher.
LOOP_PARAMS = """
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        Optimiser of the networks (a critic, where there is one, has its own).
    optimizer_kwargs : dict, default=None
        Further options of the optimiser's torch class (not ``lr``), e.g.
        ``{"momentum": 0.9, "weight_decay": 5e-4}`` for ``"sgd"``, the settings of
        released code; a critic's optimiser gets them too.
    n_jobs : int, default=None
        Threads of torch and of BLAS inside ``fit`` and ``transform`` (the caller's
        settings are restored after). ``None`` means 1: small networks train fastest on
        one thread, and more threads than free cores made a fit 10-40x slower. ``-1``
        uses all cores; more than the cores are clipped to them. Fits and transforms
        running at once in threads restore the caller's settings when the last ends.
    device : str, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU; or a torch device name.
    verbose : bool, default=False
        Show a progress bar over minibatches with the loss terms (tqdm; a
        :class:`~skhash.deep.ProgressBar` callback).
    callbacks : list of Callback, default=None
        Training callbacks (:mod:`skhash.deep`): :class:`~skhash.deep.EarlyStopping` on a
        held-out fraction (unsupervised), :class:`~skhash.deep.LRScheduler`,
        :class:`~skhash.deep.Checkpoint`, or your own :class:`~skhash.deep.Callback`.
    validation_fraction : float or None, default=None
        Fraction of the training rows held out of training, drawn with ``random_state``;
        each epoch's ``history_`` record then holds ``"validation_loss"``, the training
        objective on them (labels included for a supervised hasher), which
        :class:`~skhash.deep.EarlyStopping` monitors. ``None``: 0.1 when a callback
        monitors it, else 0 (every row trains).
"""

LOOP_ATTRS = """
    device_ : torch.device
        Device used for training. A pickled model returns to it where it exists, else it
        unpickles onto the CPU with a warning.
    loss_curve_ : list of float
        ``history_[i]["loss"]`` per epoch.
    n_iter_ : int
        Number of epochs completed.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
"""


def doc_filler(**sections):
    """Decorator replacing each line ``{name}`` of a class docstring with section ``name``.

    ``{loop_params}`` and ``{loop_attrs}`` (what the training loop gives every deep hasher)
    are always available, and a section may itself hold them. Each ``<name>`` in a section
    becomes the class's own default for parameter ``name`` (as its signature has it), so
    that classes sharing a section may differ in their defaults; a section is indented like
    the placeholder line it replaces.
    """
    sections = {"loop_params": LOOP_PARAMS, "loop_attrs": LOOP_ATTRS, **sections}

    def fill(cls):
        defaults = inspect.signature(cls).parameters

        def default(match):
            value = defaults[match.group(1)].default
            return f'"{value}"' if isinstance(value, str) else str(value)

        def section(match):
            text = re.sub(r"<(\w+)>", default, textwrap.dedent(sections[match.group(2)]))
            return textwrap.indent(text.strip("\n"), match.group(1))

        placeholder = re.compile(r"^( *)\{(" + "|".join(sections) + r")\}$", re.M)
        doc = cls.__doc__
        while placeholder.search(doc):
            doc = placeholder.sub(section, doc)
        cls.__doc__ = doc
        return cls

    return fill
