import { InputError, unknownName } from './errors.ts';
import type {
  AdapterFactory,
  DatasetLoader,
  MetricDefinition,
  PromptTemplate,
  Protocol,
  Suite,
} from './types.ts';

/** A named collection with helpful errors for unknown names. */
export class Registry<T> {
  readonly #items = new Map<string, T>();
  readonly #origin = new Map<string, string>();

  constructor(readonly kind: string) {}

  /** Registers `item` under `id`; `origin` says where it came from (built-in or a plugin module). */
  register(id: string, item: T, origin = 'built-in'): void {
    const existing = this.#origin.get(id);
    if (existing !== undefined && existing !== origin) {
      throw new InputError(`${this.kind} '${id}' from ${origin} clashes with the one from ${existing}`);
    }
    this.#items.set(id, item);
    this.#origin.set(id, origin);
  }

  has(id: string): boolean {
    return this.#items.has(id);
  }

  /** The item, or an InputError naming near misses. */
  get(id: string): T {
    const item = this.#items.get(id);
    if (item === undefined) throw new InputError(unknownName(this.kind, id, this.ids()));
    return item;
  }

  origin(id: string): string | undefined {
    return this.#origin.get(id);
  }

  ids(): string[] {
    return [...this.#items.keys()].sort();
  }

  values(): T[] {
    return this.ids().map((id) => this.#items.get(id)!);
  }
}

/** The one registry of loaders, protocols, adapters, metrics, prompt templates and suites. */
export class HarnessRegistry {
  readonly loaders = new Registry<DatasetLoader>('dataset');
  readonly protocols = new Registry<Protocol>('protocol');
  // biome-ignore lint/suspicious/noExplicitAny: factories have heterogeneous config types.
  readonly adapters = new Registry<AdapterFactory<any>>('adapter type');
  readonly metrics = new Registry<MetricDefinition>('metric');
  readonly prompts = new Registry<PromptTemplate>('prompt template');
  readonly suites = new Registry<Suite>('suite');

  /** Registers a loader and every protocol it declares. */
  addLoader(loader: DatasetLoader, origin?: string): void {
    this.loaders.register(loader.id, loader, origin);
    for (const p of loader.protocols) this.protocols.register(p.id, p, origin);
  }

  // biome-ignore lint/suspicious/noExplicitAny: factories have heterogeneous config types.
  addAdapter(factory: AdapterFactory<any>, origin?: string): void {
    this.adapters.register(factory.type, factory, origin);
  }

  addMetric(metric: MetricDefinition, origin?: string): void {
    this.metrics.register(metric.name, metric, origin);
  }

  addPrompt(template: PromptTemplate, origin?: string): void {
    this.prompts.register(template.id, template, origin);
  }

  addSuite(suite: Suite, origin?: string): void {
    this.suites.register(suite.id, suite, origin);
  }
}
