// The yardstick: a Worker that does nothing but answer 200. `make load` serves it with the
// hub's runner on the same machine first; every hub figure is read beside its req/s.
export default {
  fetch() {
    return new Response("ok\n");
  },
};
