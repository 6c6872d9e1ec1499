import { once } from 'node:events';
import { jsonReplacer, type CliEnvironment, type CliOutput } from './cli-io.js';

const FLUSH_AT = 65_536;

/**
 * Writes the one JSON document of a `--json` run piece by piece, so that a long list (every
 * desync with `--full`) streams out instead of being built as one string. Fields print like
 * `CliOutput.json` prints them (two-space indent); list items print one per line. Every piece
 * passes through the output's scrub, and the writer waits for the stream to drain.
 */
export class JsonDocumentWriter {
  private text = '';
  private fieldsWritten = 0;
  private items = 0;

  constructor(
    private readonly out: CliOutput,
    private readonly stdout: CliEnvironment['stdout'],
  ) {}

  async fields(values: Readonly<Record<string, unknown>>): Promise<void> {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const body = JSON.stringify(value, jsonReplacer, 2).replace(/\n/g, '\n  ');
      this.text += `${this.fieldsWritten === 0 ? '{\n' : ',\n'}  ${JSON.stringify(key)}: ${body}`;
      this.fieldsWritten++;
    }
    await this.maybeFlush();
  }

  async beginList(key: string): Promise<void> {
    this.text += `${this.fieldsWritten === 0 ? '{\n' : ',\n'}  ${JSON.stringify(key)}: [`;
    this.fieldsWritten++;
    this.items = 0;
    await this.maybeFlush();
  }

  async item(value: unknown): Promise<void> {
    this.text += `${this.items === 0 ? '\n    ' : ',\n    '}${JSON.stringify(value, jsonReplacer)}`;
    this.items++;
    await this.maybeFlush();
  }

  async endList(): Promise<void> {
    this.text += this.items === 0 ? ']' : '\n  ]';
    await this.maybeFlush();
  }

  async end(): Promise<void> {
    this.text += this.fieldsWritten === 0 ? '{}\n' : '\n}\n';
    await this.flush();
  }

  private async maybeFlush(): Promise<void> {
    if (this.text.length >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.out.scrub(this.text);
    this.text = '';
    const written = this.stdout.write(text);
    const stream = this.stdout as unknown as NodeJS.EventEmitter & { writableNeedDrain?: boolean };
    if (written === false && typeof stream.once === 'function') await once(stream, 'drain');
  }
}
