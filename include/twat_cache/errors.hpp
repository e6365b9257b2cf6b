#pragma once
/// Exceptions twat_cache throws. Only invalid configuration throws; cache I/O errors are counted.

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

TWAT_CACHE_END_NAMESPACE
