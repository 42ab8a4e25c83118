"""Writes PyTorch checkpoints for the restricted-unpickler tests: usage write_pickles.py FOLDER.

state.bin: a real module state dict (an OrderedDict with _metadata) plus views that share storage,
int64, float16 and bfloat16 tensors, all made from arange so the C# side can rebuild the values.
hostile.bin: a state dict whose pickle calls os.system when Python loads it.
legacy.bin: the pre-1.6 (non-zip) format.
"""
import collections
import os
import sys

import torch

folder = sys.argv[1]
linear = torch.nn.Linear(4, 3)
with torch.no_grad():
    linear.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4))
    linear.bias.copy_(torch.arange(3, dtype=torch.float32) - 1)
state = linear.state_dict()
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
state["transposed"] = base.t()
state["row"] = base[1]
state["position_ids"] = torch.arange(5, dtype=torch.int64).unsqueeze(0)
state["half"] = torch.arange(6, dtype=torch.float16).reshape(2, 3)
state["bf16"] = torch.arange(4, dtype=torch.bfloat16)
state["parameter"] = torch.nn.Parameter(torch.arange(2, dtype=torch.float64))
torch.save(state, os.path.join(folder, "state.bin"))


class Payload:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(folder, "PWNED"),))


torch.save(collections.OrderedDict(weight=torch.ones(2), payload=Payload()), os.path.join(folder, "hostile.bin"))
torch.save({"weight": torch.ones(2)}, os.path.join(folder, "legacy.bin"), _use_new_zipfile_serialization=False)
