//  cuda_info.cu — reports the CUDA devices this machine has, as the render actor will decide
//  at run time (no device → CPU renderer). Exit 0 with a device, 3 without.
#include <cuda_runtime.h>
#include <stdio.h>

int
main (void)
{
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount (&count);
    if (rc != cudaSuccess || count == 0) {
        printf ("cuda: no device (%s); the CPU renderer will be used\n",
                rc != cudaSuccess ? cudaGetErrorString (rc) : "none found");
        return 3;
    }
    for (int i = 0; i < count; i++) {
        cudaDeviceProp prop;
        cudaGetDeviceProperties (&prop, i);
        printf ("cuda: device %d: %s, sm_%d%d, %.1f GiB, %d SMs\n", i, prop.name, prop.major,
                prop.minor, (double) prop.totalGlobalMem / (1 << 30), prop.multiProcessorCount);
    }
    return 0;
}
