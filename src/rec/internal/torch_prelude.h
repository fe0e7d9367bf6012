// MelodAI — licensed under the Apache License 2.0.
// The one LibTorch include of rec, precompiled once for every *_torch.cc translation unit
// (LibTorch headers cost ~30 s per unit otherwise). Only *_torch.cc files include LibTorch;
// no public header of rec mentions it.
#pragma once

#include <torch/torch.h>
