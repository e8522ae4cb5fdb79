import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from './broker/memory.js';
import { createDelivery } from './delivery.js';

describe('createDelivery', () => {
  it('splices the JSON the memory broker already computed, byte for byte what JSON.stringify gives', async () => {
    const broker = createMemoryBroker();
    const cases = [
      { channel: '/a', data: { text: 'quote " and \\ and \u2028', n: [1, 2.5, null] } },
      { channel: '/b/"odd"', data: 'plain', id: 'id-"7"' },
      { channel: '/c', data: 0 },
    ];
    for (const input of cases) {
      const published = await broker.publish(input);
      expect(published.dataJson).toBe(JSON.stringify(input.data));
      const delivery = createDelivery(published);
      expect(delivery.json).toBe(JSON.stringify(delivery.message));
      expect(JSON.parse(delivery.json)).toEqual({
        channel: input.channel,
        data: input.data,
        ...('id' in input ? { id: input.id } : {}),
        ext: { push: { offset: published.offset, epoch: published.epoch } },
      });
    }
    await broker.close();
  });

  it('keeps no second copy of the JSON in history and serializes a message without it itself', async () => {
    const broker = createMemoryBroker();
    const first = await broker.publish({ channel: '/h', data: { a: 1 } });
    const { messages } = await broker.history('/h', { offset: 0, epoch: first.epoch });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.dataJson).toBeUndefined();
    const delivery = createDelivery(messages[0]!);
    expect(delivery.json).toBe(JSON.stringify(delivery.message));
    await broker.close();
  });

  it('serializes data itself when history is off (the broker computed nothing)', async () => {
    const broker = createMemoryBroker({ historySize: 0 });
    const published = await broker.publish({ channel: '/x', data: [1] });
    expect(published.dataJson).toBeUndefined();
    expect(createDelivery(published).json).toBe(JSON.stringify(createDelivery(published).message));
    await broker.close();
  });
});
