#pragma once
// Finds the signature R(Args...) a callable is memoized under: from a function pointer, a
// member function pointer (the object becomes the first argument), a functor or lambda with one
// call operator, or a recursive lambda `[](auto& self, int n) -> R {...}` (self is dropped).

#include <twat_cache/version.hpp>
#include <type_traits>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Tag: deduce the signature from the callable.
struct deduce_signature {};

/// Stands in for the memoized wrapper while a recursive lambda's signature is read.
struct self_placeholder {};

template <class Sig>
struct function_traits {
  static constexpr bool known = false;
};
template <class R, class... A>
struct function_traits<R(A...)> {
  static constexpr bool known = true;
  using signature = R(A...);
};
template <class R, class... A>
struct function_traits<R(A...) noexcept> : function_traits<R(A...)> {};
template <class R, class... A>
struct function_traits<R (*)(A...)> : function_traits<R(A...)> {};
template <class R, class... A>
struct function_traits<R (*)(A...) noexcept> : function_traits<R(A...)> {};

// Member functions: the object is the first argument. A const member takes it by const
// reference; a non-const one by non-const reference, which memoize rejects with a message.
#define TWAT_CACHE_MEMBER_TRAITS_(QUALS, OBJ)                                      \
  template <class R, class C, class... A>                                          \
  struct function_traits<R (C::*)(A...) QUALS> : function_traits<R(OBJ, A...)> {}; \
  template <class R, class C, class... A>                                          \
  struct function_traits<R (C::*)(A...) QUALS noexcept> : function_traits<R(OBJ, A...)> {};
TWAT_CACHE_MEMBER_TRAITS_(, C&)
TWAT_CACHE_MEMBER_TRAITS_(&, C&)
TWAT_CACHE_MEMBER_TRAITS_(const, const C&)
TWAT_CACHE_MEMBER_TRAITS_(const&, const C&)
#undef TWAT_CACHE_MEMBER_TRAITS_

// A call operator's own signature, without the object.
template <class M>
struct call_operator_traits {
  static constexpr bool known = false;
};
#define TWAT_CACHE_CALL_OPERATOR_TRAITS_(QUALS)                                    \
  template <class R, class C, class... A>                                          \
  struct call_operator_traits<R (C::*)(A...) QUALS> : function_traits<R(A...)> {}; \
  template <class R, class C, class... A>                                          \
  struct call_operator_traits<R (C::*)(A...) QUALS noexcept> : function_traits<R(A...)> {};
TWAT_CACHE_CALL_OPERATOR_TRAITS_()
TWAT_CACHE_CALL_OPERATOR_TRAITS_(const)
TWAT_CACHE_CALL_OPERATOR_TRAITS_(&)
TWAT_CACHE_CALL_OPERATOR_TRAITS_(const&)
#undef TWAT_CACHE_CALL_OPERATOR_TRAITS_

template <class Sig>
struct drop_self {
  static constexpr bool known = false;
};
template <class R, class Self, class... A>
struct drop_self<R(Self, A...)> : function_traits<R(A...)> {};

template <class F>
struct callable_signature {
  static constexpr bool known = false;
};
template <class F>
requires function_traits<F>::known struct callable_signature<F> : function_traits<F> {
};
template <class F>
  requires(!function_traits<F>::known)
&&requires {
  &F::operator();
}
struct callable_signature<F> : call_operator_traits<decltype(&F::operator())> {};
template <class F>
  requires(!function_traits<F>::known)
&&(!requires { &F::operator(); }) && requires {
  &F::template operator()<self_placeholder>;
}
struct callable_signature<F>
    : drop_self<typename call_operator_traits<
          decltype(&F::template operator()<self_placeholder>)>::signature> {};

template <class Sig, class F>
struct resolve_signature {
  static_assert(
      function_traits<Sig>::known,
      "twat_cache: the explicit signature must be a function type, e.g. mcache<int(int)>(f)");
  using type = typename function_traits<Sig>::signature;
};
template <class F>
struct resolve_signature<deduce_signature, F> {
  static_assert(callable_signature<F>::known,
                "twat_cache: cannot deduce the argument types of this callable (a generic lambda, "
                "an overloaded functor, or a recursive lambda without a `-> R` return type). Give "
                "the signature explicitly, e.g. twat_cache::mcache<long(int)>(f).");
  using type = typename callable_signature<F>::signature;
};

/// The signature to memoize F under: Sig when given, else deduced from F.
template <class Sig, class F>
using resolve_signature_t = typename resolve_signature<Sig, std::remove_cvref_t<F>>::type;

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
