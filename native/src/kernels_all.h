// The kernels in dependency order, for inclusion inside one instruction set's namespace after its vector
// layer (isa_*.cc).
#include "kernels_args.h"
#include "kernels_math.h"
#include "kernels_elementwise.h"
#include "kernels_gemm.h"
#include "kernels_rows.h"
#include "kernels_attention.h"
#include "kernels_attention_bwd.h"
#include "kernels_attention_infer.h"
#include "kernels_table.h"
