// task_traits for Asio's awaitable<T, Executor>, written once for both Asios: <twat_cache/asio.hpp>
// includes it with TWAT_CACHE_ASIO_NS = asio, <twat_cache/boost_asio.hpp> with boost::asio (and
// TWAT_CACHE_ASIO_SYSTEM_ERROR naming that Asio's system_error). No include guard, on purpose.
//
// An Asio coroutine can only await Asio's own awaitables and operations, so joining a flight is an
// asynchronous operation (async_initiate): the awaiter's handler waits in the flight, keeps its
// executor's work alive, resumes on its own executor, and honours its cancellation slot. The
// computation runs co_spawn'ed on the first awaiter's executor, detached from every awaiter.
// Alone (without TWAT_CACHE_ASIO_NS) it is empty.

#ifdef TWAT_CACHE_ASIO_NS

TWAT_CACHE_BEGIN_NAMESPACE

template <class T, class Executor>
struct task_traits<TWAT_CACHE_ASIO_NS::awaitable<T, Executor>> {
  using value_type = T;
  using awaitable_type = TWAT_CACHE_ASIO_NS::awaitable<T, Executor>;

  static awaitable_type ready(T value) { co_return value; }

  static awaitable_type join(shared_flight<awaitable_type> flight) {
    flight.join();
    if (!flight.done()) {
      if (auto run = flight.claim_start()) {
        TWAT_CACHE_ASIO_NS::co_spawn(co_await TWAT_CACHE_ASIO_NS::this_coro::executor,
                                     drive(std::move(*run)), TWAT_CACHE_ASIO_NS::detached);
      }
      co_await TWAT_CACHE_ASIO_NS::async_initiate<
          const TWAT_CACHE_ASIO_NS::use_awaitable_t<Executor>&, void(std::exception_ptr)>(
          initiation{&flight}, TWAT_CACHE_ASIO_NS::use_awaitable_t<Executor>{});
    }
    co_return flight.value();
  }

 private:
  static TWAT_CACHE_ASIO_NS::awaitable<void, Executor> drive(flight_run<awaitable_type> run) {
    std::exception_ptr error;
    try {
      T value = co_await run.call();
      run.set_value(std::move(value));
      co_return;
    } catch (...) {
      error = std::current_exception();
    }
    run.set_exception(std::move(error));
  }

  // One awaiter's handler, parked in the flight until it is done or the awaiter is cancelled.
  template <class Handler>
  class waiter final : public flight_waiter {
   public:
    waiter(Handler&& handler, shared_flight<awaitable_type>& flight)
        : handler_(std::move(handler)),
          work_(TWAT_CACHE_ASIO_NS::make_work_guard(
              TWAT_CACHE_ASIO_NS::get_associated_executor(handler_))),
          flight_(flight) {}

    void start() {
      auto slot = TWAT_CACHE_ASIO_NS::get_associated_cancellation_slot(handler_);
      if (slot.is_connected()) slot.template emplace<canceller>(this);
      // Done meanwhile: complete, but never inside the initiating function.
      if (!flight_.subscribe(*this)) complete(nullptr, /*posted=*/true);
    }
    void on_done() noexcept override { complete(nullptr, /*posted=*/false); }

   private:
    struct canceller {
      explicit canceller(waiter* w) noexcept : self(w) {}
      waiter* self;
      void operator()(TWAT_CACHE_ASIO_NS::cancellation_type_t) const {
        // Only this awaiter leaves; the computation goes on for the others.
        if (self->flight_.unsubscribe(*self)) {
          self->complete(std::make_exception_ptr(TWAT_CACHE_ASIO_SYSTEM_ERROR(
                             TWAT_CACHE_ASIO_NS::error::operation_aborted)),
                         /*posted=*/true);
        }
      }
    };

    void complete(std::exception_ptr error, bool posted) noexcept {
      auto executor = work_.get_executor();
      // The completion owns the waiter: if its executor is destroyed before running it (an
      // io_context destroyed with work pending), the waiter and its handler are freed with it.
      auto finish = [self = std::unique_ptr<waiter>(this), error]() mutable {
        auto slot = TWAT_CACHE_ASIO_NS::get_associated_cancellation_slot(self->handler_);
        if (slot.is_connected()) slot.clear();
        Handler handler = std::move(self->handler_);
        self.reset();  // before the handler runs: it may end the flight's owner
        std::move(handler)(std::move(error));
      };
      if (posted) {
        TWAT_CACHE_ASIO_NS::post(executor, std::move(finish));
      } else {
        TWAT_CACHE_ASIO_NS::dispatch(executor, std::move(finish));
      }
    }

    Handler handler_;
    TWAT_CACHE_ASIO_NS::executor_work_guard<TWAT_CACHE_ASIO_NS::associated_executor_t<Handler>>
        work_;
    shared_flight<awaitable_type>& flight_;  // in the joining coroutine's frame, which waits
  };

  struct initiation {
    shared_flight<awaitable_type>* flight;
    template <class Handler>
    void operator()(Handler&& handler) const {
      (new waiter<std::decay_t<Handler>>(std::forward<Handler>(handler), *flight))->start();
    }
  };
};

TWAT_CACHE_END_NAMESPACE

#endif  // TWAT_CACHE_ASIO_NS
