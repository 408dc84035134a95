declare module 'kafkajs-snappy' {
  /** A kafkajs codec factory for snappy (xerial-compatible). */
  const createSnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export default createSnappyCodec;
}
