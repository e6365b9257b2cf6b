#pragma once
/// Exceptions twat_cache throws. Invalid configuration reaches the caller (config_error), and an
/// acache awaiter whose computation was dropped (computation_abandoned); cache I/O errors are
/// counted and logged.

#include <stdexcept>
#include <string>
#include <twat_cache/version.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// Base of every exception this library throws.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An option has an invalid value; the message names the field and the allowed values.
class config_error : public error {
 public:
  using error::error;
};

/// A persistent engine could not start (its folder cannot be made or opened, its file is not a
/// cache of ours). The factories catch it and fall back to memory with one warning.
class engine_unavailable : public error {
 public:
  using error::error;
};

/// Reading or writing a cache failed after it started (a full disk, a lock held too long). The
/// wrapper counts it in stats().errors and logs it; the caller still gets the function's value.
class cache_io_error : public error {
 public:
  using error::error;
};

/// An async computation that acache shares was destroyed before it finished (its runtime shut
/// down). Every awaiter of it gets this exception; nothing is cached, and the next call computes.
class computation_abandoned : public error {
 public:
  using error::error;
};

TWAT_CACHE_END_NAMESPACE
