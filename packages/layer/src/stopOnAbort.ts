/** `source`, checking `signal` before each chunk: every entry, large or small, is read through it. */
export async function* stopOnAbort(
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    signal.throwIfAborted();
    yield chunk;
  }
}
