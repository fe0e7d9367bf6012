// MelodAI — licensed under the Apache License 2.0.
// The one LibTorch include of rec, precompiled once for every *_torch.cc translation unit
// (LibTorch headers cost ~30 s per unit otherwise). Only *_torch.cc files include LibTorch;
// no public header of rec mentions it.
#pragma once

// clang (the fuzz build) in C++20 mode rejects LibTorch 1.13's headers: they use
// std::vector<c10::IValue> before IValue is complete, and clang instantiates libstdc++ 12's
// constexpr vector members at once (fixed in LibTorch 2.1). Including <vector> and the headers
// that redeclare its helpers with those members not constexpr (no change of layout or ABI)
// defers the instantiation until IValue is complete. gcc builds are unaffected.
#if defined(__clang__) && __cplusplus >= 202002L && __has_include(<bits/allocator.h>)
#include <bits/allocator.h>  // first, constexpr: fmt needs a literal std::allocator
#if _GLIBCXX_RELEASE >= 12
#pragma push_macro("_GLIBCXX20_CONSTEXPR")
#undef _GLIBCXX20_CONSTEXPR
#define _GLIBCXX20_CONSTEXPR
#include <algorithm>
#include <tuple>
#include <vector>
#pragma pop_macro("_GLIBCXX20_CONSTEXPR")
#endif
#endif

#include <torch/torch.h>
