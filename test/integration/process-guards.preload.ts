/**
 * Preloaded (`--import`) into `hearth start` by process-guards.test.ts: once the server listens (a TCP server
 * exists and the process guards are installed), it injects bugs from outside any handler: `HEARTH_TEST_REJECT`
 * unhandled rejections and `HEARTH_TEST_THROW` uncaught exceptions, as a stray promise or a throwing timer would.
 */
const rejections = Number(process.env.HEARTH_TEST_REJECT ?? 0);
const exceptions = Number(process.env.HEARTH_TEST_THROW ?? 0);

const poll = setInterval(() => {
  const listening = process.getActiveResourcesInfo().includes("TCPServerWrap");
  if (!listening || process.listenerCount("unhandledRejection") === 0) return;
  clearInterval(poll);
  for (let i = 0; i < rejections; i++) void Promise.reject(new Error(`injected rejection ${i}`));
  for (let i = 0; i < exceptions; i++) {
    setTimeout(() => {
      throw new Error(`injected exception ${i}`);
    }, 10 * i);
  }
}, 20);
poll.unref();
