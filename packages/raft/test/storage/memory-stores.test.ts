import { memoryStores } from '../../src/storage';
import { storesContract } from './stores-contract';

storesContract('memory stores', async () => memoryStores());
