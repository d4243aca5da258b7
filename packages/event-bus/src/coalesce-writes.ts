/** The parts of amqplib's connection internals this relies on (amqplib 2.x). */
interface MuxedConnection {
  connection?: {
    stream?: { cork?: () => void; uncork?: () => void };
    muxer?: { _readIncoming?: () => void };
  };
}

/**
 * Makes the frames amqplib writes in one go leave as one socket write. amqplib's multiplexer
 * writes each frame to the socket on its own; with `noDelay` (no Nagle delay, which a lone
 * confirmed publish needs) a burst of 256 publishes then becomes 256 packets the broker reads one
 * by one. Corking the socket around the multiplexer's pass sends the burst as one `writev`, and a
 * lone frame still at once. It reaches into amqplib's private `muxer`; when a version lacks it,
 * nothing is changed and false is returned (the connection works, only less batched).
 */
export function coalesceWrites(model: unknown): boolean {
  const connection = (model as MuxedConnection | null)?.connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  const pass = muxer?._readIncoming;
  if (typeof pass !== 'function' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function')
    return false;
  const { cork, uncork } = { cork: stream.cork.bind(stream), uncork: stream.uncork.bind(stream) };
  muxer!._readIncoming = function readIncomingCorked(this: unknown) {
    cork();
    try {
      pass.call(this);
    } finally {
      uncork();
    }
  };
  return true;
}
