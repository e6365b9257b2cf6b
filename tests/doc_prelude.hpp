#pragma once
// What the docs' code fragments use without showing it (tests/doc_snippets.cmake compiles each
// fragment as a function body after this header): the library, chrono's literals, and stand-ins
// for the functions the pages memoize. A fragment that needs more than this is an excerpt, and
// its page marks it so.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

using namespace std::chrono_literals;

/// The value acache's pages load.
struct Profile {
  std::string name;
};

int g(int x);
std::string geocode(const std::string& address);
std::string reverse_geocode(double latitude, double longitude);
std::vector<float> load(const std::string& path);
