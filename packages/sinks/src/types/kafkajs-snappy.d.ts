declare module 'kafkajs-snappy' {
  /** A kafkajs codec factory for snappy (xerial-compatible); a CommonJS function export. */
  function createSnappyCodec(): {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export = createSnappyCodec;
}
