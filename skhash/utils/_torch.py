"""Torch devices and CPU-portable pickling, shared by the deep hashers, the image feature
extractors and the torch search backend. torch is imported only when these are called."""

import copy
import itertools
import warnings

__all__ = ["CPUPortableModuleMixin", "cpu_copy", "resolve_device", "usable_device"]


def resolve_device(device):
    """Turn ``"auto"`` (CUDA when available, else CPU) or a device name into a torch.device.

    Imports torch only when called, so callers that import torch lazily stay lazy.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA, but torch finds no CUDA device "
            f"(torch.cuda.is_available() is False); use device='cpu' or 'auto'."
        )
    return resolved


def usable_device(device, owner):
    """``device`` where this machine has it, else the CPU with a warning naming ``owner``.

    For objects unpickled on another machine than the one they were fitted on.
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"{owner} was fitted on {device}, which is not available here; using the CPU."
        )
        return torch.device("cpu")
    return device


def cpu_copy(module):
    """``module`` itself when all its tensors are on the CPU, else a copy with CPU tensors.

    Each parameter and buffer is copied to the CPU one at a time: the device never holds
    a second copy of the module.
    """
    import torch

    tensors = list(itertools.chain(module.parameters(), module.buffers()))
    if all(t.device.type == "cpu" for t in tensors):
        return module
    memo = {}
    for tensor in tensors:
        cpu = tensor.detach().cpu()
        if isinstance(tensor, torch.nn.Parameter):
            cpu = torch.nn.Parameter(cpu, requires_grad=tensor.requires_grad)
        memo[id(tensor)] = cpu
    return copy.deepcopy(module, memo)


class CPUPortableModuleMixin:
    """Pickles the fitted torch module ``module_`` with CPU tensors and unpickles it onto
    ``device_``, or onto the CPU (with a warning) on a machine without that device: a model
    fitted on CUDA loads anywhere."""

    def __getstate__(self):
        state = dict(super().__getstate__())
        module = state.get("module_")
        if module is not None:
            state["module_"] = cpu_copy(module)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in self.__dict__:
            self.device_ = usable_device(self.device_, type(self).__name__)
            self.module_ = self.module_.to(self.device_)
