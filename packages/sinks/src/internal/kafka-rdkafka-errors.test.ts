import { describe, expect, it } from 'vitest';
import { classifyKafkaError } from './kafka-errors.js';
import {
  mapRdKafkaError,
  RDKAFKA_ERR_AUTHENTICATION,
  RDKAFKA_ERR_SSL,
  securityFailureIn,
} from './kafka-rdkafka-errors.js';

const rdkafkaError = (code: number, message: string) =>
  Object.assign(new Error(message), { code });

describe('mapRdKafkaError', () => {
  it('should classify refused records as permanent and transport failures as retryable', () => {
    const classify = (code: number, message: string) => {
      const c = classifyKafkaError(
        'k',
        mapRdKafkaError(rdkafkaError(code, message)),
      );
      return [c.retryable, c.error.code];
    };
    expect(classify(10, 'Broker: Message size too large')).toEqual([
      false,
      'LC_ERR_RECORD_TOO_LARGE',
    ]);
    expect(classify(-141, 'Local: Message size too large')).toEqual([
      false,
      'LC_ERR_RECORD_TOO_LARGE',
    ]);
    expect(classify(17, 'Broker: Invalid topic')).toEqual([
      false,
      'LC_ERR_SINK_REJECTED',
    ]);
    expect(classify(29, 'Broker: Topic authorization failed')).toEqual([
      false,
      'LC_ERR_SINK_AUTH',
    ]);
    expect(classify(-192, 'Local: Message timed out')).toEqual([
      true,
      'LC_ERR_SINK_UNAVAILABLE',
    ]);
    expect(classify(-195, 'Local: Broker transport failure')).toEqual([
      true,
      'LC_ERR_SINK_UNAVAILABLE',
    ]);
    expect(classify(-184, 'Local: Queue full')).toEqual([
      true,
      'LC_ERR_SINK_UNAVAILABLE',
    ]);
  });
});

describe('securityFailureIn', () => {
  it('should find refused SASL credentials and failed TLS handshakes in librdkafka log lines', () => {
    const sasl = securityFailureIn(
      '[thrd:sasl_ssl://127.0.0.1:1/bootstrap]: sasl_ssl://127.0.0.1:1/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 (after 6ms in state AUTH_REQ)',
    );
    expect(sasl).toMatchObject({ code: RDKAFKA_ERR_AUTHENTICATION });
    expect(sasl?.message).not.toContain('after 6ms');
    const c = classifyKafkaError('k', mapRdKafkaError(sasl));
    expect([c.retryable, c.error.code]).toEqual([false, 'LC_ERR_SINK_AUTH']);

    const tls = securityFailureIn(
      '[thrd:ssl://127.0.0.1:1/bootstrap]: ssl://127.0.0.1:1/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified (after 2ms in state SSL_HANDSHAKE)',
    );
    expect(tls).toMatchObject({ code: RDKAFKA_ERR_SSL });
    const t = classifyKafkaError('k', mapRdKafkaError(tls));
    expect([t.retryable, t.error.code]).toEqual([false, 'LC_ERR_SINK_TLS']);

    expect(
      securityFailureIn(
        '127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused',
      ),
    ).toBeUndefined();
  });

  it('should carry a node TLS code found by the probe so the reason is named', () => {
    const explained = Object.assign(
      new Error('certificate has expired (librdkafka: SSL handshake failed)'),
      { code: 'CERT_HAS_EXPIRED' },
    );
    const c = classifyKafkaError('k', mapRdKafkaError(explained));
    expect(c.error.code).toBe('LC_ERR_SINK_TLS');
    expect(c.error.message).toContain('the server certificate has expired');
  });
});
